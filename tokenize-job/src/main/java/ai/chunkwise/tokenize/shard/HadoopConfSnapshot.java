package ai.chunkwise.tokenize.shard;

import org.apache.hadoop.conf.Configuration;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/**
 * The driver's Hadoop configuration, shipped to the executors so that they open the output file system
 * exactly as the driver does (credentials, fs.* settings). Hadoop's Configuration is not Serializable, and
 * Spark's wrapper for it is not public API.
 */
public final class HadoopConfSnapshot implements Serializable {
    private static final long serialVersionUID = 1L;

    private final HashMap<String, String> entries = new HashMap<>();

    public HadoopConfSnapshot(Configuration conf) {
        for (Map.Entry<String, String> e : conf) {
            entries.put(e.getKey(), e.getValue());
        }
    }

    public Configuration toConfiguration() {
        Configuration c = new Configuration(false);
        entries.forEach(c::set);
        return c;
    }
}
