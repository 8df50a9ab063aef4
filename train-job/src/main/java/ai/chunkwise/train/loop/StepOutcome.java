package ai.chunkwise.train.loop;

import ai.chunkwise.train.data.DataPosition;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;

/**
 * What one optimizer step did: its micro-batches' mean loss, the update, the data position after it, and where
 * the step's time went, in ms by metrics key (empty where there is nothing to split).
 */
record StepOutcome(double loss, long predicted, int chunksVisited, double gradNorm, boolean updated,
                   DataPosition position, Map<String, Double> timings) {

    /** The step's line of metrics.jsonl. */
    ObjectNode metrics(long step, double lr, long tokens, double seconds, long physical) {
        ObjectNode m = MetricsLog.newEntry();
        m.put("step", step);
        m.put("loss", loss);
        m.put("lr", lr);
        m.put("grad_norm", gradNorm);
        m.put("updated", updated);
        m.put("predicted_tokens", predicted);
        m.put("tokens", tokens);
        m.put("tokens_per_s", tokens / seconds);
        m.put("step_seconds", seconds);
        m.put("chunks_visited", chunksVisited);
        m.put("epoch", position.epoch());
        m.put("physical_bytes", physical);
        m.put("heap_bytes", Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory());
        m.put("heap_after_gc_bytes", HeapAfterGc.usedBytes());
        timings.forEach(m::put);
        return m;
    }
}
