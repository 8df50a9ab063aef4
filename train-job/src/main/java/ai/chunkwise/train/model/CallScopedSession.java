package ai.chunkwise.train.model;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.config.ExecutionResult;
import org.nd4j.autodiff.samediff.config.SDValue;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A SameDiff session that carries no bookkeeping from one call to the next, with a {@link SessionArrayCache} as
 * its memory manager.
 *
 * <p>Why: SameDiff keeps one session per graph and thread for every call, and M2.1's session adds the id of each
 * array it hands back to its memory manager to {@code freedArrays}, a set it never empties: it grew by every
 * intermediate array of every chunk for the whole run (docs/dl4j-m2.1.md). An id names one array for one call
 * only (an array taken from the cache gets a new id), so the set is emptied once each call ends.
 */
final class CallScopedSession extends InferenceSession {
    private CallScopedSession(SameDiff graph) {
        super(graph);
        setMmgr(new SessionArrayCache());
    }

    /** This thread's session of {@code graph}, installed in place of SameDiff's own on first use. */
    static CallScopedSession of(SameDiff graph) {
        long thread = Thread.currentThread().getId();
        if (graph.getSessions().get(thread) instanceof CallScopedSession session) {
            return session;
        }
        CallScopedSession session = new CallScopedSession(graph);
        graph.getSessions().put(thread, session);
        return session;
    }

    @Override
    public ExecutionResult output(List<String> variables, Map<String, INDArray> placeholders,
                                  Map<String, SDValue> otherPlaceholders, MultiDataSet batch,
                                  Collection<String> requiredActivations, List<Listener> listeners, At at) {
        freedArrays.clear();
        try {
            return super.output(variables, placeholders, otherPlaceholders, batch, requiredActivations, listeners, at);
        } finally {
            freedArrays.clear();
        }
    }

    /** Ids in the session's freed-array set now (0 between calls). */
    int freedArrayIds() {
        return freedArrays.size();
    }

    SessionArrayCache arrayCache() {
        return (SessionArrayCache) getMmgr();
    }
}
