package ai.chunkwise.train.model;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The backward graph of a {@link SameDiff} model, run with SameDiff's array cache ON.
 *
 * <p>Why not {@code calculateGradientsAndOutputs}: in M2.1 it switches the gradient function's array cache off,
 * and then the session keeps every intermediate array of the call alive until the call ends and frees it only
 * when the GC collects the wrappers: one chunk's backward held all of its buffers at once, growing with the past,
 * on fresh pages that fault on first touch (docs/dl4j-m2.1.md). With the cache on,
 * the session hands each array back to its memory manager as soon as its last consumer has run, and the manager
 * reuses it for a later allocation of up to twice the size: the working set stays small within a call and across
 * calls (SeCO's past lengths only shrink in pass 2, so earlier buffers fit later requests).
 */
final class GradientFunction {
    private final SameDiff forward;
    private final SameDiff backward;

    /**
     * @param placeholdersWithGradient placeholders whose gradient will be asked for (SameDiff needs them all
     *                                 before the gradient function is built)
     */
    GradientFunction(SameDiff forward, List<String> placeholdersWithGradient) {
        this.forward = forward;
        // createGradFunction prints a line per op to stdout in M2.1; keep stdout for our own JSON output
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            forward.createGradFunction(placeholdersWithGradient.toArray(new String[0]));
        } finally {
            System.setOut(stdout);
        }
        this.backward = forward.getFunction("grad");
        backward.setEnableCache(true);
    }

    /**
     * Forward + backward once: returns {@code output} under its own name and the gradient of each name in
     * {@code gradientsOf} under that name. The arrays may be recycled by the next call: consume or copy them first.
     */
    Map<String, INDArray> run(Map<String, INDArray> feed, String output, List<String> gradientsOf) {
        boundCache(backward);
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

    /** Most bytes SameDiff's array cache may keep per graph and thread (see {@link #boundCache}). */
    static final long CACHE_BYTES = 256L << 20;

    /**
     * Gives this thread's session of {@code graph} an array cache of at most {@link #CACHE_BYTES}. M2.1's default
     * bound is 90% of JavaCPP's physical-memory limit (i.e. none): every distinct array size that SeCO's changing
     * past length produces stayed cached and the resident set grew with every repeat (docs/dl4j-m2.1.md).
     */
    static void boundCache(SameDiff graph) {
        long thread = Thread.currentThread().getId();
        InferenceSession session = graph.getSessions().get(thread);
        if (session != null && session.getMmgr() instanceof ArrayCacheMemoryMgr m && m.getMaxCacheBytes() == CACHE_BYTES) {
            return;
        }
        session = new InferenceSession(graph);
        ArrayCacheMemoryMgr bounded = new ArrayCacheMemoryMgr();
        bounded.setMaxCacheBytes(CACHE_BYTES);
        session.setMmgr(bounded);
        graph.getSessions().put(thread, session);
    }
}
