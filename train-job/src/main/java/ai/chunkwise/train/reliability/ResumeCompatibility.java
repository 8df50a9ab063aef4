package ai.chunkwise.train.reliability;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares the configuration of a run being resumed with the one its checkpoint was written with (the
 * checkpoint's own train.conf and fingerprint). Changes that only affect how long or how verbosely the run goes
 * on are safe; every other change would silently mix two runs into one (other data, model, method, batch
 * geometry, optimizer) and is refused unless forced.
 */
public final class ResumeCompatibility {
    /** Keys that may change between the parts of a run without changing what the continued run computes. */
    static final Set<String> SAFE_KEYS = Set.of(
            "train.steps",                 // a longer (or shorter) run; note the cosine schedule is stretched with it
            "train.output",                // the same directory, reached by another path
            "train.checkpoint-every", "train.keep-checkpoints", "train.log-every", "train.max-nonfinite-steps",
            "train.data.verify-checksums", "train.model.gc-threshold-mb",
            "train.memory.limit");            // another machine, or more memory: the same computation
    /** Keys naming content by path: a different path to the same content (by fingerprint) is no change. */
    static final Set<String> CONTENT_KEYS = Set.of("train.data.dataset", "train.data.sources", "train.model.init-config", "train.model.path");

    private ResumeCompatibility() {
    }

    /** One differing key, with the checkpoint's value and the run's. */
    public record Change(String key, String checkpointValue, String runValue, boolean safe) {
        @Override
        public String toString() {
            return key + ": " + checkpointValue + " -> " + runValue;
        }
    }

    /**
     * @param checkpointConf the checkpoint's train.conf (rendered HOCON)
     * @param runConf        the resuming run's rendered configuration
     * @param checkpointFp   the checkpoint's fingerprint, or null for a checkpoint written before fingerprints
     * @param runFp          the fingerprint of what the run's configuration names
     */
    public static List<Change> compare(String checkpointConf, String runConf, RunFingerprint checkpointFp,
                                       RunFingerprint runFp) {
        Map<String, String> before = flatten(ConfigFactory.parseString(checkpointConf));
        Map<String, String> now = flatten(ConfigFactory.parseString(runConf));
        Set<String> keys = new TreeSet<>(before.keySet());
        keys.addAll(now.keySet());
        List<Change> changes = new ArrayList<>();
        for (String key : keys) {
            String a = before.getOrDefault(key, "(absent)");
            String b = now.getOrDefault(key, "(absent)");
            boolean contentKey = CONTENT_KEYS.contains(key) && checkpointFp != null && runFp != null;
            if (contentKey && a.equals(b) && isUnset(a)) {
                // train.data.dataset and train.data.sources share one data identity: a changed dataset is reported
                // under the key the run uses, not also as "sources: [] -> []"
                continue;
            }
            if (contentKey) {
                String fa = checkpointFp.identities().get(key);
                String fb = runFp.identities().get(key);
                if (!Objects.equals(fa, fb)) {
                    changes.add(new Change(key, a + " (content " + abbreviate(fa) + ")",
                            b + " (content " + abbreviate(fb) + ")", false));
                } else if (!a.equals(b)) {
                    changes.add(new Change(key, a, b + " (same content)", true));
                }
                continue;
            }
            if (!a.equals(b)) {
                changes.add(new Change(key, a, b, SAFE_KEYS.contains(key)));
            }
        }
        return changes;
    }

    /** A content key that names nothing (the other of dataset/sources is in use). */
    private static boolean isUnset(String value) {
        return value.isEmpty() || value.equals("[]") || value.equals("(absent)") || value.equals("null");
    }

    private static String abbreviate(String identity) {
        if (identity == null) {
            return "unknown";
        }
        return identity.length() > 16 ? identity.substring(0, 16) + "..." : identity;
    }

    private static Map<String, String> flatten(Config c) {
        Map<String, String> m = new TreeMap<>();
        for (Map.Entry<String, ConfigValue> e : c.entrySet()) {
            Object v = e.getValue().unwrapped();
            m.put(e.getKey(), String.valueOf(v));
        }
        return m;
    }
}
