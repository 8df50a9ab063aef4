package ai.chunkwise.tokenize;

import ai.chunkwise.tokenize.input.RawRecord;
import ai.chunkwise.tokenize.shard.ShardKey;
import ai.chunkwise.tokenize.shard.TokenizedDocument;
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
        String effectiveMaster = !master.isEmpty() ? master : embedded ? "local[*]" : submitted.get("spark.master");
        b.master(effectiveMaster);
        if (embedded) {
            b.config("spark.ui.enabled", "false").config(CONSOLE_PROGRESS, String.valueOf(LaunchMode.stdoutIsTerminal()));
            if (effectiveMaster.startsWith("local")) {
                configureEmbedded(b);
            }
        }
        if (!submitted.contains("spark.serializer")) {
            b.config("spark.serializer", KRYO);
        }
        if (!submitted.contains(KRYO_CLASSES)) {
            b.config(KRYO_CLASSES, SHUFFLED_CLASSES);
        }
        SparkSession session = b.getOrCreate();
        if (!session.sparkContext().getConf().getBoolean(CONSOLE_PROGRESS, false)) {
            session.sparkContext().addSparkListener(new StageProgressLog());
        }
        return session;
    }

    private static final String CONSOLE_PROGRESS = "spark.ui.showConsoleProgress";

    private static final String KRYO = "org.apache.spark.serializer.KryoSerializer";
    private static final String KRYO_CLASSES = "spark.kryo.classesToRegister";
    /**
     * The job's own classes that cross a shuffle. Kryo writes an unregistered class by its full name in front of
     * EVERY record (and looks the name up again when reading); a registered one costs a small int.
     */
    static final String SHUFFLED_CLASSES = String.join(",", RawRecord.class.getName(), ShardKey.class.getName(),
            TokenizedDocument.class.getName());

    /**
     * Kryo with the job's shuffled classes registered: shuffled records are int[] tokens and small keys, and
     * Kryo is several times faster than Java serialization.
     */
    public static SparkSession.Builder configureKryo(SparkSession.Builder b) {
        return b.config("spark.serializer", KRYO).config(KRYO_CLASSES, SHUFFLED_CLASSES);
    }

    /**
     * Settings of a local Spark inside this JVM: nothing listens beyond the loopback interface, no UI, the
     * progress bar only on a terminal. (A remote --master without spark-submit keeps Spark's own driver address.)
     */
    public static SparkSession.Builder configureEmbedded(SparkSession.Builder b) {
        return b.config("spark.ui.enabled", "false")
                .config(CONSOLE_PROGRESS, String.valueOf(LaunchMode.stdoutIsTerminal()))
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
