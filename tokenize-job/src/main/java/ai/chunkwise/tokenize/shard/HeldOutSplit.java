package ai.chunkwise.tokenize.shard;

import java.io.Serializable;

/**
 * Decides which documents form the held-out evaluation set: a document is held out when a uniform number drawn
 * from SHA-256(seed, record index, file relative to the input root) is below the fraction. The decision depends
 * on the document's identity alone, so it is the same whatever the partitioning, and a document is in exactly one
 * of the two datasets. The digest is the {@link DocumentHash} that {@link ShardAssigner} reads; this uses its third
 * 64-bit word, which neither the shard pick (first word) nor the order inside a shard (second word) uses, so the
 * training documents keep the shards and order they would have without a split.
 */
public final class HeldOutSplit implements Serializable {
    private static final long serialVersionUID = 1L;

    private final DocumentHash hash;
    private final double fraction;

    public HeldOutSplit(long seed, double fraction) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("eval fraction must be in [0, 1), got " + fraction);
        }
        this.hash = new DocumentHash(seed);
        this.fraction = fraction;
    }

    public boolean isHeldOut(String file, long index) {
        if (fraction == 0) {
            return false;
        }
        long word = hash.of(file, index).getLong(16);
        double uniform = (word >>> 11) * 0x1.0p-53;   // the top 53 bits: uniform in [0, 1)
        return uniform < fraction;
    }

    public boolean isHeldOut(ShardKey key) {
        return isHeldOut(key.file(), key.index());
    }
}
