package ai.chunkwise.train.data;

import java.io.Serializable;

/**
 * Where one training row lies: source {@code source} of the run's datasets (train.data order), its shard
 * {@code shard} (manifest index) and row {@code row} within that shard. Small enough to send to another machine,
 * which reads the row itself ({@link TrainingSources#readRows}).
 */
public record RowReference(int source, int shard, long row) implements Serializable {
}
