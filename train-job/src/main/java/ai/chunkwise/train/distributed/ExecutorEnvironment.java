package ai.chunkwise.train.distributed;

import ai.chunkwise.pipeline.storage.Locations;
import ai.chunkwise.train.backend.CpuBuild;
import ai.chunkwise.train.memory.MemoryBudget;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkEnv;
import scala.Tuple2;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * What an executor JVM sets up once, before its first model: ND4J's native build (as the driver's launcher does),
 * the memory budget as JavaCPP's limit (both must precede ND4J's loading), the Hadoop configuration with Spark's
 * {@code spark.hadoop.*} settings, and local copies of remote inputs, fetched once per JVM.
 */
final class ExecutorEnvironment {
    private static MemoryBudget inForce;
    private static final Map<String, Path> FETCHED = new HashMap<>();

    private ExecutorEnvironment() {
    }

    /**
     * Selects the native build and makes the budget JavaCPP's limit, once per JVM (JavaCPP reads it once); returns
     * the budget to check a model against: the one set, or with "auto" the one in force.
     */
    static synchronized MemoryBudget prepare(String memoryLimit) {
        boolean auto = memoryLimit == null || memoryLimit.equalsIgnoreCase(MemoryBudget.AUTO);
        MemoryBudget wanted = auto ? MemoryBudget.machineFree() : MemoryBudget.parse(memoryLimit);
        if (inForce == null) {
            CpuBuild.select();
            inForce = wanted.apply();   // in local mode ND4J is loaded already: the driver's limit stays
        }
        return auto ? inForce : wanted;
    }

    /**
     * Hadoop's configuration as Spark builds it for this application: the cluster's *-site.xml files plus every
     * {@code spark.hadoop.*} setting without its prefix (SparkHadoopUtil's rule, which is not public API).
     */
    static Configuration hadoopConfiguration() {
        Configuration conf = new Configuration();
        SparkEnv env = SparkEnv.get();
        if (env != null) {
            for (Tuple2<String, String> kv : env.conf().getAll()) {
                if (kv._1().startsWith("spark.hadoop.")) {
                    conf.set(kv._1().substring("spark.hadoop.".length()), kv._2());
                }
            }
        }
        return conf;
    }

    /** A local path holding {@code location}: itself when local, else one copy per JVM. */
    static synchronized Path local(String what, String location) {
        if (!Locations.isRemote(location)) {
            return Locations.localPath(location);
        }
        return FETCHED.computeIfAbsent(location, l -> Locations.fetch(what, l, hadoopConfiguration()));
    }
}
