package ai.chunkwise.pipeline.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Typesafe Config helpers shared by both jobs: a misspelled key must fail at start-up, not be ignored. */
public final class StrictConfig {

    private StrictConfig() {
    }

    /**
     * Fails if {@code c} sets a key that is not in {@code knownPaths}. A known path also admits every key
     * below it, so a free-form section (e.g. {@code spark.conf}) is declared by its own path.
     *
     * @param source names the configuration (file, or "command line") in the message
     * @throws UnknownConfigKeyException naming every unknown key, the source, and the closest known key
     */
    public static void rejectUnknownKeys(Config c, Set<String> knownPaths, String source) {
        List<String> unknown = new ArrayList<>();
        Set<String> present = new TreeSet<>();
        for (Map.Entry<String, ConfigValue> e : c.entrySet()) {
            present.add(e.getKey());
        }
        for (String key : present) {
            if (!isKnown(key, knownPaths)) {
                unknown.add(key);
            }
        }
        if (unknown.isEmpty()) {
            return;
        }
        StringBuilder msg = new StringBuilder();
        for (String key : unknown) {
            if (msg.length() > 0) {
                msg.append("; ");
            }
            ConfigValue v = c.getValue(key);
            String where = v.origin() != null && v.origin().lineNumber() > 0 ? " (line " + v.origin().lineNumber() + ")" : "";
            msg.append("unknown configuration key '").append(key).append("' in ").append(source).append(where);
            String suggestion = closest(key, knownPaths);
            if (suggestion != null) {
                msg.append(": did you mean '").append(suggestion).append("'?");
            }
        }
        msg.append(missingWrapperHint(unknown, knownPaths));
        throw new UnknownConfigKeyException(msg.toString(), unknown);
    }

    /**
     * A file written without its top-level wrapper ({@code steps = 20} for {@code train { steps = 20 }}) has every
     * key unknown; say so once, instead of only refusing key by key.
     */
    private static String missingWrapperHint(List<String> unknown, Set<String> knownPaths) {
        Set<String> roots = new TreeSet<>();
        knownPaths.forEach(k -> roots.add(k.contains(".") ? k.substring(0, k.indexOf('.')) : k));
        for (String root : roots) {
            long wrapped = unknown.stream().filter(k -> isKnown(root + "." + k, knownPaths)).count();
            if (wrapped > 0 && wrapped * 2 >= unknown.size()) {
                return ". These keys belong under " + root + " { }: put the file's settings inside " + root
                        + " { ... } (or write them as " + root + ".<key> = ...)";
            }
        }
        return "";
    }

    private static boolean isKnown(String key, Set<String> knownPaths) {
        if (knownPaths.contains(key)) {
            return true;
        }
        for (String k : knownPaths) {
            if (key.startsWith(k + ".")) {
                return true;
            }
        }
        return false;
    }

    /** The known path with the smallest edit distance, or null when nothing is reasonably close. */
    static String closest(String key, Set<String> knownPaths) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : new TreeSet<>(knownPaths)) { // sorted: ties resolve the same way every run
            int d = editDistance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best != null && bestDistance <= Math.max(2, key.length() / 3) ? best : null;
    }

    /** Levenshtein distance; hand-written because none of our libraries offers one and it is ten lines. */
    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(substitution, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
