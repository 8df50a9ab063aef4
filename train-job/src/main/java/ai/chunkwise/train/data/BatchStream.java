package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.packing.PackedSequence;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Endless stream of batches of B sequences read from a {@link TrainingStream}. The next batch is read and
 * assembled on one background thread while the caller trains on the current one (one batch ahead: the read-ahead
 * is fixed, so memory is bounded).
 */
public final class BatchStream implements AutoCloseable {
    private final TrainingStream rows;
    private final int batchSize;
    private final BatchAssembler assembler;
    private final ExecutorService prefetcher;
    private Future<PositionedBatch> pending;

    /** @param rows read only by this stream's background thread from now on; closed with this stream */
    public BatchStream(TrainingStream rows, int batchSize, boolean documentBoundaries) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        this.rows = rows;
        this.batchSize = batchSize;
        this.assembler = new BatchAssembler(documentBoundaries);
        this.prefetcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "batch-prefetch");
            t.setDaemon(true);
            return t;
        });
        this.pending = prefetcher.submit(this::assemble);
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
        pending = prefetcher.submit(this::assemble);
        return batch;
    }

    private PositionedBatch assemble() {
        List<PackedSequence> batch = new ArrayList<>(batchSize);
        while (batch.size() < batchSize) {
            batch.add(rows.next());
        }
        long[] ids = batch.stream().mapToLong(PackedSequence::seqId).toArray();
        return new PositionedBatch(assembler.assemble(batch), ids, rows.position());
    }

    @Override
    public void close() {
        // no interrupt: an interrupted read closes the file channel under Arrow, which then leaks the buffer it was
        // filling. The batch being prefetched (one at most) is finished, then the reader is closed.
        prefetcher.shutdown();
        try {
            prefetcher.awaitTermination(5, java.util.concurrent.TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        rows.close();
    }
}
