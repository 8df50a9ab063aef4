package ai.chunkwise.pipeline.format;

import java.util.Objects;

/**
 * One shard as listed in the manifest.
 *
 * @param path relative to the dataset directory, '/'-separated
 */
public record ShardEntry(String path, long rows, long tokens, long bytes, String sha256) {

    public ShardEntry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(sha256, "sha256");
    }
}
