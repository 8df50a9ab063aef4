package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.packing.PackedSequence;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Endless stream of batches of B sequences in the seeded epoch order, starting at a saved position. A batch that
 * reaches the end of an epoch continues with the next epoch's permutation. The next batch is assembled on one
 * background thread while the caller trains on the current one (at most one batch ahead, so memory is bounded).
 */
public final class BatchStream implements AutoCloseable {
    private final TrainingSequences data;
    private final EpochOrder order;
    private final int batchSize;
    private final BatchAssembler assembler;
    private final ExecutorService prefetcher;
    private Future<PositionedBatch> pending;
    // read and written only by assemble(), which runs one call at a time (each waits for the previous Future)
    private long cachedEpoch = -1;
    private int[] cachedPermutation;

    public BatchStream(TrainingSequences data, EpochOrder order, int batchSize, boolean documentBoundaries,
                       DataPosition start) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (order.size() != data.size()) {
            throw new IllegalArgumentException("order covers " + order.size() + " sequences, the data has " + data.size());
        }
        if (start.index() >= data.size()) {
            throw new IllegalArgumentException("data position " + start + " lies beyond the " + data.size()
                    + " sequences of " + data.directory() + ": the checkpoint belongs to another dataset or limit");
        }
        this.data = data;
        this.order = order;
        this.batchSize = batchSize;
        this.assembler = new BatchAssembler(documentBoundaries);
        this.prefetcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "batch-prefetch");
            t.setDaemon(true);
            return t;
        });
        this.pending = prefetcher.submit(() -> assemble(start));
    }

    /** The next batch (waits if the background thread has not finished it), and starts preparing the one after. */
    public PositionedBatch next() {
        PositionedBatch batch;
        try {
            batch = pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the next batch", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("preparing a batch failed: " + cause, cause);
        }
        DataPosition after = batch.next();
        pending = prefetcher.submit(() -> assemble(after));
        return batch;
    }

    private PositionedBatch assemble(DataPosition from) {
        List<PackedSequence> rows = new ArrayList<>(batchSize);
        long epoch = from.epoch();
        long index = from.index();
        while (rows.size() < batchSize) {
            if (epoch != cachedEpoch) {
                cachedPermutation = order.permutation(epoch);
                cachedEpoch = epoch;
            }
            rows.add(data.get(cachedPermutation[(int) index]));
            index++;
            if (index == data.size()) {
                epoch++;
                index = 0;
            }
        }
        long[] ids = rows.stream().mapToLong(PackedSequence::seqId).toArray();
        return new PositionedBatch(assembler.assemble(rows), ids, new DataPosition(epoch, index));
    }

    @Override
    public void close() {
        prefetcher.shutdownNow();
    }
}
