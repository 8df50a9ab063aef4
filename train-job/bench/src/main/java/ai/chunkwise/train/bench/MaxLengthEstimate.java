package ai.chunkwise.train.bench;

import ai.chunkwise.train.memory.MemoryEstimate;
import ai.chunkwise.train.model.LlamaConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;

/**
 * The longest power-of-two sequence that the trainer's memory estimate ({@link MemoryEstimate}, the one that refuses
 * runs at start-up) fits under each budget, for a LoRA SeCO run at a real width: an estimate, not a run (a whole
 * step at these widths takes hours on 2 cores). Prints the estimate at every length from 1K to 1M (and plain
 * back-propagation's, {@code full}, beside it), then one line per budget (SeCO's).
 *
 * <p>Arguments: config.json layers chunk base-dtype(bf16|fp32) lora-rank budget-GiB...
 */
public final class MaxLengthEstimate {
    private static final double GIB = 1L << 30;

    private MaxLengthEstimate() {
    }

    public static void main(String[] args) throws Exception {
        LlamaConfig full = LlamaConfig.fromJson(Path.of(args[0]));
        int layers = Integer.parseInt(args[1]);
        int chunk = Integer.parseInt(args[2]);
        int frozenBytes = args[3].equals("bf16") ? 2 : 4;
        int rank = Integer.parseInt(args[4]);
        ObjectMapper json = new ObjectMapper();
        for (int tokens = 1024; tokens <= (1 << 20); tokens *= 2) {
            ObjectNode out = json.createObjectNode();
            out.put("config", args[0]);
            out.put("layers", layers);
            out.put("tokens", tokens);
            out.put("chunk", chunk);
            out.put("base_dtype", args[3]);
            out.put("lora_rank", rank);
            long seco = estimate(full, layers, chunk, frozenBytes, rank, tokens);
            long plain = estimate(full, layers, chunk, frozenBytes, rank, tokens, true);
            out.put("estimate_gib", seco / GIB);
            out.put("full_backprop_estimate_gib", plain / GIB);
            out.put("seco_over_full", seco / (double) plain);
            System.out.println(out);
        }
        for (int i = 5; i < args.length; i++) {
            double budget = Double.parseDouble(args[i]);
            int longest = 0;
            for (int tokens = 1024; tokens <= (1 << 20); tokens *= 2) {
                if (estimate(full, layers, chunk, frozenBytes, rank, tokens) <= budget * GIB) {
                    longest = tokens;
                }
            }
            ObjectNode out = json.createObjectNode();
            out.put("config", args[0]);
            out.put("layers", layers);
            out.put("budget_gib", budget);
            out.put("longest_power_of_two_tokens_by_estimate", longest);
            out.put("estimate_gib_at_longest", longest == 0 ? 0 : estimate(full, layers, chunk, frozenBytes, rank,
                    longest) / GIB);
            out.put("estimate_gib_at_next", estimate(full, layers, chunk, frozenBytes, rank, 2L * Math.max(longest,
                    512)) / GIB);
            System.out.println(out);
        }
    }

    private static long estimate(LlamaConfig full, int layers, int chunk, int frozenBytes, int rank, long tokens) {
        return estimate(full, layers, chunk, frozenBytes, rank, tokens, false);
    }

    /** SeCO's estimate, or with {@code fullBackprop} plain back-propagation's (the whole sequence as one chunk). */
    private static long estimate(LlamaConfig full, int layers, int chunk, int frozenBytes, int rank, long tokens,
                                 boolean fullBackprop) {
        LlamaConfig config = RealShapeProbe.atDepth(full, layers, (int) tokens);
        return MemoryEstimate.of(config, RealShapeProbe.lora(rank), 4, frozenBytes, 1, tokens, chunk, fullBackprop)
                .totalBytes();
    }
}
