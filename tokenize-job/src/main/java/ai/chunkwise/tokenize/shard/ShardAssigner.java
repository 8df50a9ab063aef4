package ai.chunkwise.tokenize.shard;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Maps a document identity (file relative to the input root, record index) to its {@link ShardKey}.
 *
 * <p>The hash is SHA-256 over (seed, index, file), because it must be identical on every JVM, machine and
 * version, today and later (String.hashCode is 32-bit and Spark's own hashes are internal APIs). Its cost is
 * negligible next to tokenizing the document.
 */
public final class ShardAssigner implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long seed;
    private final int shards;
    private transient MessageDigest sha256;

    public ShardAssigner(long seed, int shards) {
        if (shards <= 0) {
            throw new IllegalArgumentException("shards must be > 0, got " + shards);
        }
        this.seed = seed;
        this.shards = shards;
    }

    public int shards() {
        return shards;
    }

    public ShardKey keyOf(String file, long index) {
        ByteBuffer h = ByteBuffer.wrap(hash(file, index));
        // two independent 64-bit halves of the digest: one picks the shard, the other orders inside it
        int shard = (int) Long.remainderUnsigned(h.getLong(0), shards);
        return new ShardKey(shard, h.getLong(8), file, index);
    }

    private byte[] hash(String file, long index) {
        MessageDigest d = digest();
        d.reset();
        d.update(ByteBuffer.allocate(16).putLong(seed).putLong(index).array());
        d.update(file.getBytes(StandardCharsets.UTF_8));
        return d.digest();
    }

    private MessageDigest digest() {
        if (sha256 == null) {
            try {
                sha256 = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is required by every Java platform", e);
            }
        }
        return sha256;
    }
}
