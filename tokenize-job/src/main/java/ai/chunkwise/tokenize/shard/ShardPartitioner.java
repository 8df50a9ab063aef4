package ai.chunkwise.tokenize.shard;

import org.apache.spark.Partitioner;

/** Spark partition i = output shard i (the shard was chosen by {@link ShardAssigner}). */
public final class ShardPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;

    private final int shards;

    public ShardPartitioner(int shards) {
        this.shards = shards;
    }

    @Override
    public int numPartitions() {
        return shards;
    }

    @Override
    public int getPartition(Object key) {
        return ((ShardKey) key).shard();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardPartitioner p && p.shards == shards;
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(shards);
    }
}
