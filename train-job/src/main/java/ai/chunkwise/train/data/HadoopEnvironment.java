package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.format.DatasetLocation;
import org.apache.hadoop.conf.Configuration;

/**
 * The Hadoop configuration datasets are read with. Under spark-submit (the trainer running inside the Spark
 * driver) it is Spark's: core-site.xml / hdfs-site.xml of HADOOP_CONF_DIR plus every {@code spark.hadoop.*}
 * property, built by Spark's own {@code SparkHadoopUtil.newConfiguration(SparkConf)}. Otherwise (plain
 * {@code java -jar}) it is the environment's ({@code core-site.xml} etc. found on the class path).
 *
 * <p>Spark is reached by reflection: it is present only under spark-submit (a {@code provided} dependency that
 * plain {@code java -jar train-job.jar} runs without), and no SparkContext is started: the trainer needs Spark's
 * configuration, not its executors.
 */
public final class HadoopEnvironment {
    private HadoopEnvironment() {
    }

    /**
     * True when this JVM was started by spark-submit (client mode: SparkSubmit sets {@code SPARK_SUBMIT}; cluster
     * mode: the driver wrapper sets the {@code spark.master} property) and Spark's classes are loadable.
     */
    public static boolean underSparkSubmit() {
        boolean launched = System.getProperty("SPARK_SUBMIT") != null || System.getProperty("spark.master") != null;
        return launched && sparkPresent();
    }

    public static Configuration configuration() {
        if (!underSparkSubmit()) {
            return DatasetLocation.environmentConfiguration();
        }
        try {
            Class<?> sparkConfClass = Class.forName("org.apache.spark.SparkConf");
            Object sparkConf = sparkConfClass.getConstructor().newInstance();   // loads the spark.* system properties
            Class<?> util = Class.forName("org.apache.spark.deploy.SparkHadoopUtil");
            Object instance = util.getMethod("get").invoke(null);
            return (Configuration) util.getMethod("newConfiguration", sparkConfClass).invoke(instance, sparkConf);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("cannot build Spark's Hadoop configuration under spark-submit (" + e
                    + "); this build expects Spark 4.0.x", e);
        }
    }

    private static boolean sparkPresent() {
        try {
            Class.forName("org.apache.spark.SparkConf", false, HadoopEnvironment.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
