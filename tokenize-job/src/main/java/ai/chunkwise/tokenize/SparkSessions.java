package ai.chunkwise.tokenize;

import ai.chunkwise.tokenize.input.RawRecord;
import ai.chunkwise.tokenize.shard.ShardKey;
import ai.chunkwise.tokenize.shard.TokenizedDocument;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.util.Map;
import java.util.function.Supplier;

/** The Spark session of the job: spark-submit's when there is one, else an embedded, quiet local one. */
public final class SparkSessions {
    private SparkSessions() {
    }

    /**
     * @param master the configured master; "" = spark-submit's (spark.master), else embedded local[*]
     */
    public static SparkSession open(String master) {
        return openForJob(master).session();
    }

    /** A session, and whether this call started it (then its caller stops it when done). */
    public record Opened(SparkSession session, boolean started) {
    }

    /** {@link #open}, telling whether a session already existed (Spark's code, when it first loads, may warn). */
    public static Opened openForJob(String master) {
        // spark-submit passes its settings as spark.* system properties (SparkConf reads them from there too)
        String submittedMaster = System.getProperty("spark.master");
        boolean embedded = submittedMaster == null;
        String effectiveMaster = !master.isEmpty() ? master : embedded ? "local[*]" : submittedMaster;
        Supplier<Opened> start = () -> {
            boolean existed = SparkSession.getDefaultSession().isDefined();
            return new Opened(create(new SparkConf(), embedded, effectiveMaster), !existed);
        };
        // Spark looks up the host's address when its configuration classes first load: quiet from here on
        return embedded && effectiveMaster.startsWith("local") ? withoutLoopbackWarning(start) : start.get();
    }

    private static SparkSession create(SparkConf submitted, boolean embedded, String effectiveMaster) {
        SparkSession.Builder b = SparkSession.builder().appName("chunkwise-tokenize");
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

    /** The logger of Spark's "Your hostname, X, resolves to a loopback address ..." warning. */
    static final String HOSTNAME_WARNING_LOGGER = "org.apache.spark.util.Utils";
    /** Its level in the embedded log configuration (log4j2-embedded.properties); read again when Spark reloads the configuration as it starts. */
    static final String HOSTNAME_WARNING_LEVEL_PROPERTY = "chunkwise.log.sparkUtilsLevel";

    /**
     * Starts an embedded local session without Spark's warning that the hostname resolves to a loopback address:
     * the embedded session binds to the loopback interface on purpose ({@link #configureEmbedded}), so the warning
     * (and its advice to set SPARK_LOCAL_IP) is noise. Spark looks the address up once, when its configuration
     * classes load; that logger is at ERROR for the start only, so its later warnings still show.
     */
    private static <T> T withoutLoopbackWarning(Supplier<T> start) {
        Level before;
        try {
            before = LogManager.getLogger(HOSTNAME_WARNING_LOGGER).getLevel();
            System.setProperty(HOSTNAME_WARNING_LEVEL_PROPERTY, "error");
            Configurator.setLevel(HOSTNAME_WARNING_LOGGER, Level.ERROR);
        } catch (LinkageError | RuntimeException e) {
            return start.get();   // another logging backend: leave its configuration alone
        }
        try {
            return start.get();
        } finally {
            System.clearProperty(HOSTNAME_WARNING_LEVEL_PROPERTY);
            Configurator.setLevel(HOSTNAME_WARNING_LOGGER, before);
        }
    }

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
