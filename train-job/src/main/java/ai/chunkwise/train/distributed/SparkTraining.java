package ai.chunkwise.train.distributed;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The Spark context of a distributed run: the one spark-submit configured (its master, its executors), or, for a
 * plain {@code java -jar} run, one on {@code train.spark.master}. Executors get one task at a time with all their
 * cores (spark.task.cpus = spark.executor.cores) and as many OpenMP threads, unless the user set those.
 */
public final class SparkTraining {
    private SparkTraining() {
    }

    /** The run's context (the run stops it when it ends). */
    public static JavaSparkContext context(String master) {
        SparkConf conf = new SparkConf();   // spark-submit's settings arrive as spark.* system properties
        if (!conf.contains("spark.master")) {
            if (master == null || master.isBlank()) {
                throw new IllegalArgumentException("train.distributed = spark needs a Spark master: run under "
                        + "spark-submit (--master ...), or set train.spark.master (e.g. local[2] or spark://host:7077) "
                        + "or the train command's --master");
            }
            conf.setMaster(master);
            conf.setIfMissing("spark.ui.enabled", "false");
            if (master.startsWith("local")) {   // embedded: nothing listens beyond the loopback interface
                conf.setIfMissing("spark.driver.host", "127.0.0.1");
                conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            }
        }
        conf.setIfMissing("spark.app.name", "chunkwise train");
        if (conf.contains("spark.executor.cores")) {
            String cores = conf.get("spark.executor.cores");
            conf.setIfMissing("spark.task.cpus", cores);
        }
        // ND4J reads OMP_NUM_THREADS once, when it loads: it must be in the executor's environment
        conf.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", conf.get("spark.task.cpus", "1"));
        return JavaSparkContext.fromSparkContext(SparkContext.getOrCreate(conf));
    }
}
