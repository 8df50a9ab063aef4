package ai.chunkwise.train.cli;

import java.util.Arrays;

/**
 * train-job's console is for the user's progress and errors: ND4J and Arrow log their start-up at INFO (backend,
 * thread counts, build flags), ND4J warns twice about "Duplicate TF op mapping" in its own TensorFlow import
 * table, which this program never uses, and Hadoop warns that it has no native library (it needs none here). All
 * are hidden unless {@code --verbose} is given. Logging goes through
 * slf4j-simple, which reads its levels from system properties the first time a logger is made; so this must run
 * before anything touches ND4J, and a level the user set with {@code -D} is left alone.
 */
final class QuietLogging {
    static final String DEFAULT_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";
    /** Where ND4J's "Duplicate TF op mapping" warnings come from. */
    static final String OP_MAPPING_LOGGER = "org.slf4j.simpleLogger.log.org.nd4j.imports.converters.ImportClassMapping";
    /** Hadoop's client warns at every start that it found no native library; reading datasets needs none. */
    static final String HADOOP_NATIVE_LOGGER = "org.slf4j.simpleLogger.log.org.apache.hadoop.util.NativeCodeLoader";
    /**
     * Spark embedded for {@code --master local[N]} warns that the hostname resolves to a loopback address; the
     * embedded driver binds to loopback on purpose (distributed.SparkTraining).
     */
    static final String SPARK_HOSTNAME_LOGGER = "org.slf4j.simpleLogger.log.org.apache.spark.util.Utils";

    private QuietLogging() {
    }

    static void configure(String[] args) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        setIfAbsent(DEFAULT_LEVEL, verbose ? "info" : "warn");
        setIfAbsent(OP_MAPPING_LOGGER, verbose ? "info" : "error");
        setIfAbsent(HADOOP_NATIVE_LOGGER, verbose ? "info" : "error");
        setIfAbsent(SPARK_HOSTNAME_LOGGER, verbose ? "info" : "error");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
