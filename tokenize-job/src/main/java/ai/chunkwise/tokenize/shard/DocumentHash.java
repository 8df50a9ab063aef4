package ai.chunkwise.tokenize.shard;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 over (seed, record index, file relative to the input root): a document's identity as 256 bits that are
 * identical on every JVM, machine and version, today and later (String.hashCode is 32-bit and Spark's own hashes
 * are internal APIs). Its 64-bit words are spent once each: the shard ({@link ShardAssigner}, word 0), the order
 * inside it (word 1) and the held-out split ({@link HeldOutSplit}, word 2). Its cost is negligible next to
 * tokenizing the document.
 */
final class DocumentHash implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long seed;
    // not serializable; made once per task, on first use
    private transient MessageDigest sha256;

    DocumentHash(long seed) {
        this.seed = seed;
    }

    /** The document's 32-byte digest, read as four big-endian 64-bit words. */
    ByteBuffer of(String file, long index) {
        MessageDigest d = digest();
        d.reset();
        d.update(ByteBuffer.allocate(16).putLong(seed).putLong(index).array());
        d.update(file.getBytes(StandardCharsets.UTF_8));
        return ByteBuffer.wrap(d.digest());
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
