package ai.chunkwise.train.bench;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A SameDiff listener that times every op the session executes (wall and this thread's CPU, from just before the
 * op runs to just after), summed per op name, plus the span from the first op's start to the last op's end: what
 * the session spends between ops (its bookkeeping, the array cache) is that span minus the ops' sum.
 */
final class OpTimer extends BaseListener {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** Time of one op name within one recording. */
    static final class OpTime {
        long wallNanos;
        long cpuNanos;
        int calls;
        String outputShape = "";
    }

    private final Map<String, OpTime> ops = new HashMap<>();
    private boolean recording;
    private long wallStart;
    private long cpuStart;
    private long firstStart;
    private long lastEnd;

    /** Starts a fresh recording (and discards the last one); until then the listener does nothing. */
    void start() {
        ops.clear();
        firstStart = 0;
        lastEnd = 0;
        recording = true;
    }

    void stop() {
        recording = false;
    }

    Map<String, OpTime> ops() {
        return ops;
    }

    /** Nanoseconds from the first op's start to the last op's end of the recording. */
    long spanNanos() {
        return lastEnd - firstStart;
    }

    @Override
    public boolean isActive(Operation operation) {
        return true;
    }

    @Override
    public void preOpExecution(SameDiff sd, At at, SameDiffOp op, OpContext opContext) {
        if (!recording) {
            return;
        }
        cpuStart = THREADS.getCurrentThreadCpuTime();
        wallStart = System.nanoTime();
        if (firstStart == 0) {
            firstStart = wallStart;
        }
    }

    @Override
    public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext opContext,
                            INDArray[] outputs) {
        if (!recording) {
            return;
        }
        long wallEnd = System.nanoTime();
        long cpuEnd = THREADS.getCurrentThreadCpuTime();
        lastEnd = wallEnd;
        OpTime t = ops.computeIfAbsent(op.getName(), k -> new OpTime());
        t.wallNanos += wallEnd - wallStart;
        t.cpuNanos += cpuEnd - cpuStart;
        t.calls++;
        if (outputs != null && outputs.length > 0 && outputs[0] != null) {
            t.outputShape = Arrays.toString(outputs[0].shape());
        }
    }
}
