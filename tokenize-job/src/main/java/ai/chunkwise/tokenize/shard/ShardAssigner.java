package ai.chunkwise.tokenize.shard;

import java.io.Serializable;
import java.nio.ByteBuffer;

/**
 * Maps a document identity (file relative to the input root, record index) to its {@link ShardKey}, from the
 * document's {@link DocumentHash} (SHA-256, the same on every JVM and version).
 */
public final class ShardAssigner implements Serializable {
    private static final long serialVersionUID = 1L;

    private final DocumentHash hash;
    private final int shards;

    public ShardAssigner(long seed, int shards) {
        if (shards <= 0) {
            throw new IllegalArgumentException("shards must be > 0, got " + shards);
        }
        this.hash = new DocumentHash(seed);
        this.shards = shards;
    }

    public int shards() {
        return shards;
    }

    public ShardKey keyOf(String file, long index) {
        ByteBuffer h = hash.of(file, index);
        // two independent 64-bit words of the digest: one picks the shard, the other orders inside it
        int shard = (int) Long.remainderUnsigned(h.getLong(0), shards);
        return new ShardKey(shard, h.getLong(8), file, index);
    }
}
