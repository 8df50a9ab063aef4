package ai.chunkwise.train.distributed;

import ai.chunkwise.train.data.RowReference;

import java.io.Serializable;
import java.util.List;

/**
 * One micro-batch of an optimizer step, as a Spark task computes it: identified by (step, index), never by the
 * executor that runs it, with its rows by reference and the seed of its random draws (SpaCO's chunks).
 */
public record MicroBatchTask(long step, int index, List<RowReference> rows, long seed) implements Serializable {
}
