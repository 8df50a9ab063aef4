package ai.chunkwise.train.model;

import org.bytedeco.javacpp.Pointer;

/**
 * When SameDiff's dead native buffers are handed back. SameDiff M2.1 frees the ~600 native buffers of a backward
 * pass only when the GC collects their small Java wrappers, which a roomy heap rarely does: native memory then
 * grows to GBs and fresh pages fault on every step (docs/dl4j-m2.1.md). So: when the resident set has grown by
 * more than a threshold since the last collection, collect now (default 0: after every backward pass, the lowest
 * peak memory measured; a tiny model may prefer to skip the collection's cost). No deterministic alternative was
 * found: INDArray.close() does not return the memory in M2.1 on CPU (nor does deallocating the
 * OpaqueDataBuffer), and running the gradient function with its session's memory manager closing every released
 * array only halved the growth. Only the GC-driven deallocator frees it.
 */
public final class NativeMemoryPolicy {
    /** Resident-memory growth after which a backward pass triggers a GC (0: after every backward chunk). */
    public static final long DEFAULT_COLLECTION_THRESHOLD_BYTES = 0;
    /**
     * Smallest resident-memory growth after which a forward pass triggers a GC: a forward chunk leaves native
     * garbage, so without this SeCO's pass 1 grew with the sequence before its first backward; collecting after
     * every forward chunk instead would cost a large share of the chunk's time (docs/dl4j-m2.1.md).
     */
    static final long MIN_FORWARD_COLLECTION_BYTES = 256L << 20;

    private long collectionThresholdBytes = DEFAULT_COLLECTION_THRESHOLD_BYTES;
    private long residentAfterLastCollection;

    /**
     * Collect after a backward pass once the resident set grew by more than this many bytes since the last
     * collection (0: after every backward pass; Long.MAX_VALUE: never); forward passes use at least
     * {@link #MIN_FORWARD_COLLECTION_BYTES}.
     */
    public void setCollectionThreshold(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("collection threshold must be >= 0 bytes, got " + bytes);
        }
        this.collectionThresholdBytes = bytes;
    }

    void afterForward() {
        releaseIfGrown(Math.max(collectionThresholdBytes, MIN_FORWARD_COLLECTION_BYTES));
    }

    /**
     * Within a forward sweep (a forward pass, or the sweep that starts a backward pass), after each layer: a
     * layer's forward leaves its recomputed activations as garbage (at 16K rows of SmolLM2's width over 1 GB), so
     * waiting for the end of the sweep would let it grow with the depth; collects with the forward threshold.
     */
    void afterLayerForward() {
        releaseIfGrown(Math.max(collectionThresholdBytes, MIN_FORWARD_COLLECTION_BYTES));
    }

    /**
     * Within a backward pass, after each layer: at real widths one layer's backward leaves hundreds of MB (the
     * gradients SameDiff computes for frozen weights too, which nothing reads), so waiting for the end of the pass
     * would let the garbage grow with the depth; collects with the forward passes' threshold.
     */
    void afterLayerBackward() {
        releaseIfGrown(Math.max(collectionThresholdBytes, MIN_FORWARD_COLLECTION_BYTES));
    }

    void afterBackward() {
        releaseIfGrown(collectionThresholdBytes);
    }

    private void releaseIfGrown(long thresholdBytes) {
        long resident = Pointer.physicalBytes();
        if (thresholdBytes != Long.MAX_VALUE && resident - residentAfterLastCollection > thresholdBytes) {
            System.gc();
            residentAfterLastCollection = Pointer.physicalBytes();
        }
    }
}
