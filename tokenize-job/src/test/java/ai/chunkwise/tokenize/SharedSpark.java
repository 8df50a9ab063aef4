package ai.chunkwise.tokenize;

import org.apache.spark.sql.SparkSession;

/**
 * One local Spark session for every test class in the surefire JVM: starting Spark costs seconds on two cores.
 * Configured like the embedded job session (UI off, Kryo), stopped when the JVM exits.
 */
public final class SharedSpark {
    private static SparkSession session;

    private SharedSpark() {
    }

    public static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSessions.configureKryo(SparkSessions.configureEmbedded(SparkSession.builder()))
                    .appName("tokenize-job-tests")
                    .master("local[2]")
                    .config("spark.ui.showConsoleProgress", "false")
                    .getOrCreate();
            SparkSession s = session;
            Runtime.getRuntime().addShutdownHook(new Thread(s::stop));
        }
        return session;
    }
}
