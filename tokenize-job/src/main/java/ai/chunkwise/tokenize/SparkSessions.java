package ai.chunkwise.tokenize;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.util.Map;

/** The Spark session of the job: spark-submit's when there is one, else an embedded, quiet local one. */
public final class SparkSessions {
    private SparkSessions() {
    }

    /**
     * @param master the configured master; "" = spark-submit's (spark.master), else embedded local[*]
     */
    public static SparkSession open(String master) {
        SparkConf submitted = new SparkConf(); // spark-submit passes its settings as spark.* system properties
        boolean embedded = !submitted.contains("spark.master");
        SparkSession.Builder b = SparkSession.builder().appName("chunkwise-tokenize");
        if (!master.isEmpty()) {
            b.master(master);
        } else if (embedded) {
            b.master("local[*]");
        }
        if (embedded) {
            configureEmbedded(b);
        }
        if (!submitted.contains("spark.serializer")) {
            // shuffled records are int[] tokens and small keys: Kryo is several times faster than Java serialization
            b.config("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
        }
        return b.getOrCreate();
    }

    /** Settings of a Spark that runs inside this JVM: nothing listens on the network, progress on the console. */
    public static SparkSession.Builder configureEmbedded(SparkSession.Builder b) {
        return b.config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "true")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1");
    }

    /**
     * The Hadoop configuration used for the pre-flight checks, before a Spark session exists: Hadoop's defaults
     * and site files plus spark.hadoop.* settings, as Spark itself would build it.
     */
    public static Configuration hadoopConfForPreflight() {
        Configuration conf = new Configuration();
        for (Map.Entry<Object, Object> e : System.getProperties().entrySet()) {
            String k = String.valueOf(e.getKey());
            if (k.startsWith("spark.hadoop.")) {
                conf.set(k.substring("spark.hadoop.".length()), String.valueOf(e.getValue()));
            }
        }
        return conf;
    }
}
