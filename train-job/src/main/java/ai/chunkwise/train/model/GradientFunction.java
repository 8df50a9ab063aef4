package ai.chunkwise.train.model;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SessionMemMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The backward graph of a {@link SameDiff} model, run with SameDiff's array cache ON.
 *
 * <p>Why not {@code calculateGradientsAndOutputs}: in M2.1 it switches the gradient function's array cache off,
 * and then the session keeps every intermediate array of the call alive until the call ends and frees it only
 * when the GC collects the wrappers: one chunk's backward held all of its buffers at once, growing with the past,
 * on fresh pages that fault on first touch (docs/dl4j-m2.1.md). With the cache on,
 * the session hands each array back to its memory manager as soon as its last consumer has run, and the manager
 * reuses it for a later allocation of the same shape: the working set stays small within a call and across calls
 * (the same chunk shapes recur every step). The session is a {@link CallScopedSession}.
 *
 * <p>Public as the product's one entry for running a SameDiff graph the way the trainer runs its layer graphs: the
 * benchmarks compare the attention core against it ({@code ai.chunkwise.train.bench.SameDiffAttention}).
 */
public final class GradientFunction {
    /** One swap of System.out at a time: two models built at once (Spark tasks in one JVM) must not restore each other's. */
    private static final Object STDOUT_SWAP = new Object();
    private final SameDiff forward;
    private final SameDiff backward;

    /**
     * @param placeholdersWithGradient placeholders whose gradient will be asked for (SameDiff needs them all
     *                                 before the gradient function is built)
     */
    public GradientFunction(SameDiff forward, List<String> placeholdersWithGradient) {
        this.forward = forward;
        // createGradFunction prints a line per op to stdout in M2.1; keep stdout for our own JSON output
        synchronized (STDOUT_SWAP) {
            PrintStream stdout = System.out;
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            try {
                forward.createGradFunction(placeholdersWithGradient.toArray(new String[0]));
            } finally {
                System.setOut(stdout);
            }
        }
        this.backward = forward.getFunction("grad");
        backward.setEnableCache(true);
    }

    /**
     * Forward + backward once: returns {@code output} under its own name and the gradient of each name in
     * {@code gradientsOf} under that name. The arrays may be recycled by the next call: consume or copy them first.
     */
    public Map<String, INDArray> run(Map<String, INDArray> feed, String output, List<String> gradientsOf) {
        CallScopedSession.of(backward);
        List<String> names = new ArrayList<>();
        names.add(output);
        Map<String, String> owner = new HashMap<>();
        for (String v : gradientsOf) {
            String g = forward.getVariable(v).getGradient().name();
            owner.put(g, v);
            names.add(g);
        }
        Map<String, INDArray> raw = backward.output(feed, names);
        Map<String, INDArray> out = new HashMap<>();
        out.put(output, raw.get(output));
        owner.forEach((g, v) -> out.put(v, raw.get(g)));
        return out;
    }

    /**
     * Replaces the memory manager of this thread's session of the backward graph by {@code wrap} of it (a
     * {@link SessionArrayCache} at first): the benchmarks wrap it to count the arrays a call asks for.
     */
    public void wrapSessionMemory(UnaryOperator<SessionMemMgr> wrap) {
        CallScopedSession session = CallScopedSession.of(backward);
        session.setMmgr(wrap.apply(session.getMmgr()));
    }
}
