package ai.chunkwise.train.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Bytes of the native arrays one call of an attention core allocates: their sum, and the most held at once. A
 * sampled resident set cannot tell a few-millisecond call's peak apart from what malloc keeps between calls; the
 * cores allocate through here (or, for SameDiff, through a session memory manager that reports here) instead.
 */
public final class ArrayLedger {
    private long allocated;
    private long live;
    private long peak;

    /** An uninitialised array, counted. */
    INDArray array(DataType type, long... shape) {
        INDArray a = Nd4j.createUninitializedDetached(type, shape);
        allocated(a);
        return a;
    }

    /** Closes an array from {@link #array} and counts it as no longer held. */
    void free(INDArray a) {
        released(a);
        a.close();
    }

    public void allocated(INDArray a) {
        long bytes = a.length() * a.dataType().width();
        allocated += bytes;
        live += bytes;
        peak = Math.max(peak, live);
    }

    public void released(INDArray a) {
        live -= a.length() * a.dataType().width();
    }

    /** Starts a new call's count. */
    public void reset() {
        allocated = 0;
        live = 0;
        peak = 0;
    }

    public long allocatedBytes() {
        return allocated;
    }

    public long peakLiveBytes() {
        return peak;
    }
}
