package ai.chunkwise.train.data;

import ai.chunkwise.train.engine.Batch;

/**
 * A batch with where it came from and where reading continues.
 *
 * @param sequenceIds the dataset seq_id of every row
 * @param next        the position right after this batch (what a checkpoint taken after it stores)
 */
public record PositionedBatch(Batch batch, long[] sequenceIds, DataPosition next) {
}
