package ai.chunkwise.pipeline.format;

/**
 * What a {@link ShardWriter} wrote.
 *
 * @param tokens  non-padding tokens
 * @param bytes   bytes written to the stream
 * @param sha256  SHA-256 hex of exactly those bytes
 */
public record ShardStats(long rows, long tokens, long padding, long bytes, String sha256) {

    /** The manifest entry for this shard stored at {@code relativePath} (with '/' separators). */
    public ShardEntry toEntry(String relativePath) {
        return new ShardEntry(relativePath, rows, tokens, bytes, sha256);
    }
}
