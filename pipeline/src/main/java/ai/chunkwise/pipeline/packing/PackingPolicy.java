package ai.chunkwise.pipeline.packing;

import java.util.Arrays;
import java.util.stream.Collectors;

/** How documents are laid out in fixed-length rows. */
public enum PackingPolicy {
    /** Documents back to back, split across rows; only the final row is padded. */
    CONCAT("concat"),
    /** Best-fit-decreasing bins of one row each; long documents are split into row-sized pieces first. */
    BFD("bfd"),
    /** Every document starts on a chunk boundary, so a chunk never mixes the end of one document with another. */
    CHUNK_ALIGNED("chunk-aligned");

    private final String configName;

    PackingPolicy(String configName) {
        this.configName = configName;
    }

    /** The name used in configuration files and dataset metadata. */
    public String configName() {
        return configName;
    }

    /** Parses a configuration name ({@code concat | bfd | chunk-aligned}). */
    public static PackingPolicy parse(String name) {
        for (PackingPolicy p : values()) {
            if (p.configName.equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown packing policy '" + name + "'; valid values: "
                + Arrays.stream(values()).map(PackingPolicy::configName).collect(Collectors.joining(", ")));
    }
}
