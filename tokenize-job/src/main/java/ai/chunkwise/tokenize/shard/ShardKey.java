package ai.chunkwise.tokenize.shard;

import java.io.Serializable;
import java.util.Comparator;

/**
 * Where a document goes: its output shard, and its place inside the shard.
 *
 * <p>Inside a shard documents are ordered by (seeded hash, file, index): a seeded pseudo-random order that
 * mixes documents of different files (like a shuffle) yet depends only on the documents themselves.
 */
public final class ShardKey implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The order inside a shard; serializable because Spark ships it to the executors. */
    public static final Comparator<ShardKey> ORDER = new Order();

    private final int shard;
    private final long hash;
    private final String file;
    private final long index;

    public ShardKey(int shard, long hash, String file, long index) {
        this.shard = shard;
        this.hash = hash;
        this.file = file;
        this.index = index;
    }

    public int shard() {
        return shard;
    }

    public long hash() {
        return hash;
    }

    public String file() {
        return file;
    }

    public long index() {
        return index;
    }

    @Override
    public String toString() {
        return "shard " + shard + " " + file + "#" + index;
    }

    private static final class Order implements Comparator<ShardKey>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(ShardKey a, ShardKey b) {
            int c = Long.compare(a.hash, b.hash);
            if (c != 0) {
                return c;
            }
            c = a.file.compareTo(b.file);
            return c != 0 ? c : Long.compare(a.index, b.index);
        }
    }
}
