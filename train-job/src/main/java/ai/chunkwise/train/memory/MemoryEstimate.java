package ai.chunkwise.train.memory;

import ai.chunkwise.train.model.LlamaProjection;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.model.LlamaConfig;
import org.bytedeco.javacpp.Pointer;

import java.util.Locale;

/**
 * An up-front estimate of the memory a training run needs, computed from the model configuration and the run's
 * geometry before anything is allocated, so that an impossible size fails at once with a message saying how much
 * it needs and what to change, instead of allocating for minutes and dying of an OutOfMemoryError. Every size is
 * a long built with checked arithmetic: a value that would overflow 2^63 bytes is reported as such.
 *
 * <p>The estimate counts the large arrays of the layer-wise chunk step and a fixed runtime footprint; it is
 * calibrated against measured peaks (docs/performance.md) and refuses a run that does not fit.
 *
 * @param parameters  every weight of the model
 * @param trainable   the weights that receive gradients and optimizer moments (all, or the LoRA adapter's)
 * @param weightBytes the model's weights
 * @param optimizerBytes gradients, the accumulated gradient, and AdamW's two moments of the trainable weights
 * @param kvCacheBytes   keys and values of every layer for the whole sequence (and their gradients for seco/spaco)
 * @param activationBytes one chunk's working set (the whole sequence for full) and the runtime's footprint
 * @param largestTensor  elements of the largest single weight tensor
 */
public record MemoryEstimate(long parameters, long trainable, long weightBytes, long optimizerBytes, long kvCacheBytes,
                             long activationBytes, long largestTensor) {

    /** Keys per attention block and the vocabulary/weight blocks of the LM head (as in the model package). */
    static final long ATTENTION_BLOCK_KEYS = 512;
    static final long LOGIT_BLOCK_ENTRIES = 4L << 20;
    static final long WEIGHT_BLOCK_ENTRIES = 16L << 20;
    /** The JVM, ND4J's native libraries and thread pools: measured resident with a small model loaded. */
    static final long RUNTIME_BYTES = 200L << 20;
    /**
     * Native garbage awaiting the GC: the model collects once it grew by this much (NativeMemoryPolicy). SeCO's
     * first pass (forward chunks only) lets the garbage reach it at any width before collecting, and the memory
     * stays resident for the second pass, so it is counted whole even where one chunk leaves less.
     */
    static final long GARBAGE_BYTES = 256L << 20;
    static final long CACHE_MIN_BYTES = 64L << 20;
    /** The most rows per chunk at which no layer was seen leaving its working set behind (measured: 256; 2048 did). */
    static final long ROWS_WITHOUT_LEFTOVERS = 256;
    static final long CACHE_MAX_BYTES = 256L << 20;

    /** Java arrays (the random initialisation, safetensors reads) hold at most this many elements. */
    static final long MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;

    public long totalBytes() {
        return Math.addExact(Math.addExact(weightBytes, optimizerBytes), Math.addExact(kvCacheBytes, activationBytes));
    }

    /**
     * As {@link #of(LlamaConfig, LoraConfig, int, int, long, long, long, boolean)} with frozen weights held in the
     * compute dtype (an fp32 or fp64 checkpoint).
     */
    public static MemoryEstimate of(LlamaConfig c, LoraConfig lora, int bytesPerValue, long batch, long seqLen,
                                    long chunk, boolean fullBackprop) {
        return of(c, lora, bytesPerValue, bytesPerValue, batch, seqLen, chunk, fullBackprop);
    }

    /**
     * The memory of a run as the layer-wise chunk step spends it (ai.chunkwise.train.model.LlamaModel): the
     * weights (frozen ones in their checkpoint dtype, plus one layer and one LM-head block widened to the compute
     * dtype), the trainable tensors with their gradients and AdamW state, the K/V cache of the whole sequence (and
     * its gradient buffer for seco/spaco), and the working set of one chunk: what each layer keeps for the
     * backward, the arrays of the running layer's two gradient calls (and, with more than 256 rows per chunk,
     * what each finished layer was measured to leave resident), the attention score and mask buffers, one
     * vocabulary block of logits, SameDiff's session array caches, native garbage awaiting the GC. Plus the JVM
     * and ND4J's own footprint. Calibrated against measured peaks
     * (docs/performance.md, "Issue #19: SeCO at real sizes").
     *
     * @param bytesPerValue       4 (float32) or 8 (float64): the compute dtype
     * @param frozenBytesPerValue bytes per value of frozen base weights as loaded (2 for a bf16/fp16 checkpoint
     *                            kept as it is under LoRA); ignored for full fine-tuning
     * @param lora                the adapter, or null for full fine-tuning
     * @param fullBackprop        plain back-propagation (the whole sequence as one chunk) rather than chunk-wise
     * @throws ArithmeticException if a size exceeds 2^63
     */
    public static MemoryEstimate of(LlamaConfig c, LoraConfig lora, int bytesPerValue, int frozenBytesPerValue,
                                    long batch, long seqLen, long chunk, boolean fullBackprop) {
        return of(c, lora, bytesPerValue, frozenBytesPerValue, bytesPerValue, batch, seqLen, chunk, fullBackprop);
    }

    /**
     * As above, with the K/V cache and its gradient buffer held in {@code kvCacheBytesPerValue} bytes per value
     * (2 for train.method.kv-cache-dtype = bfloat16): narrower than the compute dtype, a chunk also holds one
     * layer's past and its gradient widened to the compute dtype.
     */
    public static MemoryEstimate of(LlamaConfig c, LoraConfig lora, int bytesPerValue, int frozenBytesPerValue,
                                    int kvCacheBytesPerValue, long batch, long seqLen, long chunk,
                                    boolean fullBackprop) {
        long h = c.hiddenSize();
        long q = mul(c.numAttentionHeads(), c.headDim());
        long kv = mul(c.numKeyValueHeads(), c.headDim());
        long inter = c.intermediateSize();
        long vocab = c.vocabSize();
        long layers = c.numHiddenLayers();
        long perLayer = add(add(mul(2, h), mul(h, q)), add(mul(2, mul(h, kv)), add(mul(q, h), mul(3, mul(h, inter)))));
        long embeddings = mul(vocab, h);
        long params = add(add(mul(layers, perLayer), h), c.tieWordEmbeddings() ? embeddings : mul(2, embeddings));
        long largest = Math.max(embeddings, Math.max(mul(h, inter), Math.max(mul(h, q), mul(h, kv))));
        long b = bytesPerValue;
        long trainable = params;
        long weights = mul(params, b);
        long optimizer = mul(mul(4, trainable), b);   // gradient, accumulated gradient, first and second moment
        if (lora != null) {
            long perLayerLora = 0;
            for (LlamaProjection p : lora.projections()) {
                perLayerLora = add(perLayerLora, mul(lora.rank(), add(p.inFeatures(c), p.outFeatures(c))));
            }
            trainable = mul(layers, perLayerLora);
            weights = mul(params, frozenBytesPerValue);
            // one layer's frozen projections copied transposed (and widened) per call, whatever their dtype
            // (LayerGraph.frozenProjection); narrow norms and one LM-head block widened at a time
            weights = add(weights, mul(sub(perLayer, mul(2, h)), b));
            if (frozenBytesPerValue < bytesPerValue) {
                weights = add(weights, mul(add(mul(2, h), Math.min(embeddings, WEIGHT_BLOCK_ENTRIES)), b));
            }
            optimizer = mul(mul(5, trainable), b);      // the adapter itself, then as above
        }
        long tokens = fullBackprop ? seqLen : Math.min(chunk, seqLen);
        long kvBytes = fullBackprop ? b : kvCacheBytesPerValue;
        long kvCache = mul(mul(mul(layers, 2), mul(batch, seqLen)), mul(kv, kvBytes));
        if (!fullBackprop) {
            kvCache = mul(kvCache, 2);   // the K/V gradients that flow back to earlier chunks
            if (kvBytes < b) {           // one layer's past K/V and their gradients widened (LlamaModel.backward)
                kvCache = add(kvCache, mul(mul(4, mul(batch, seqLen)), mul(kv, b)));
            }
        }
        long rows = mul(batch, tokens);
        // kept per layer for the backward: its input, queries, attention output, log-sum-exp and, chunk-wise, the
        // chunk's own K/V (with full back-propagation those K/V are the K/V cache counted above)
        long keptPerRow = add(add(h, mul(2, q)), add(c.numAttentionHeads(), fullBackprop ? 0 : mul(2, kv)));
        // the arrays of the running layer's two gradient calls as SameDiff runs them, each holding its graph's
        // forward arrays for the backward plus the gradients in flight: LayerOutputGraph (the attention output
        // reshaped, ~15 hidden-wide arrays: o_proj with LoRA, residual, norm, down_proj with LoRA; ~10 FFN-wide:
        // gate and up with LoRA, SiLU, their product; two FFN-wide gradients) and AttentionInputGraph (norm,
        // q/k/v with LoRA, RoPE, the permuted and scaled outputs: 3 hidden-, ~17 query- and ~18 K/V-wide). The
        // second call runs before the first one's arrays are handed back. Measured at SmolLM2's width: the
        // LayerOutputGraph call grew the resident set by ~26K floats per row (this count: 27.6K), the pair by
        // more (docs/performance.md, "Issue #19")
        long layerWork = mul(mul(rows, add(add(q, mul(15, h)), mul(12, inter))), b);
        long attentionInputWork = mul(mul(rows, add(add(mul(3, h), mul(17, q)), mul(18, kv))), b);
        // with thousands of rows per chunk a finished layer was measured to leave part of its working set
        // resident while the layers below it run their backward (plain back-propagation at SmolLM2's width: 16-23K
        // floats per row per further layer from 2K to 16K rows, ~0.7x the count above, for 1.7K kept); with
        // 256-row chunks (SeCO at all three widths measured) no such growth was seen; between, not measured. Why
        // the per-layer collection does not get it back was not established: counted as measured
        long leftBehind = rows > ROWS_WITHOUT_LEFTOVERS ? mul(mul(layers - 1, layerWork), 7) / 10 : 0;
        // attention: two [nRep x tokens, 512] score buffers and one [tokens, 512] mask, reused for every KV head
        long attentionBlocks = mul(add(mul(2, c.numAttentionHeads() / c.numKeyValueHeads()), 1),
                mul(tokens, ATTENTION_BLOCK_KEYS));
        long logitBlock = Math.min(mul(rows, vocab), LOGIT_BLOCK_ENTRIES);
        long activations = add(add(mul(add(add(mul(rows, mul(layers, keptPerRow)), attentionBlocks),
                mul(2, logitBlock)), b), add(layerWork, attentionInputWork)), leftBehind);
        // SameDiff's array caches (ai.chunkwise.train.model.SessionArrayCache): 8x the largest array a session
        // released, within 64-256 MB, and never more than the arrays it releases in a call (at SmolLM2's width a
        // 256-row chunk's calls release less than the 64 MB floor). Six sessions: the gradient calls of the two
        // layer graphs (they release the layer's working set and, in full fine-tuning, its weights' gradients;
        // LoRA computes no frozen weight's gradient), the forward calls of the two layer graphs, and the final
        // norm's forward and gradient calls (a few hidden-wide arrays)
        long ffnRows = mul(mul(rows, inter), b);
        long weightGradient = lora == null ? mul(mul(h, Math.max(inter, q)), b) : 0;
        long gradientCache = Math.min(clamp(mul(8, Math.max(weightGradient, ffnRows)),
                CACHE_MIN_BYTES, CACHE_MAX_BYTES), add(layerWork, lora == null ? mul(perLayer, b) : 0));
        long forwardCache = Math.min(clamp(mul(8, ffnRows), CACHE_MIN_BYTES, CACHE_MAX_BYTES), layerWork);
        long hiddenRows = mul(mul(rows, h), b);
        long normCache = Math.min(clamp(mul(8, hiddenRows), CACHE_MIN_BYTES, CACHE_MAX_BYTES), mul(4, hiddenRows));
        long caches = mul(2, add(add(gradientCache, forwardCache), normCache));
        activations = add(add(activations, caches), add(RUNTIME_BYTES, GARBAGE_BYTES));
        return new MemoryEstimate(params, trainable, weights, optimizer, kvCache, activations, largest);
    }

    /**
     * The memory the run may use: JavaCPP's limit, which the trainer sets from train.memory.limit before ND4J starts
     * (MemoryBudget), and never more than the machine has.
     */
    public static long availableBytes() {
        long limit = Pointer.maxPhysicalBytes();
        long machine = Pointer.totalPhysicalBytes();
        if (limit <= 0) {
            return machine;
        }
        return machine <= 0 ? limit : Math.min(limit, machine);
    }

    /**
     * Refuses a run that cannot fit.
     *
     * @param what     names the configuration, e.g. the config.json path
     * @param compute  computes the estimate (may throw ArithmeticException on overflow)
     * @param available bytes of native memory the run may use
     */
    public static void require(String what, java.util.function.Supplier<MemoryEstimate> compute, long available) {
        MemoryEstimate e;
        try {
            e = compute.get();
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException(what + ": the model and run would need more than 8 EiB (2^63 bytes) "
                    + "of memory, far beyond any machine (" + gib(available) + " available): use a configuration with "
                    + "realistic sizes (num_hidden_layers, hidden_size, intermediate_size, vocab_size, sequence length, "
                    + "batch size)");
        }
        long total;
        try {
            total = e.totalBytes();
        } catch (ArithmeticException overflow) {
            total = Long.MAX_VALUE;
        }
        if (total > available) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: training needs about %s (%,d "
                            + "parameters: weights %s, gradients + optimizer state %s, K/V cache %s, chunk activations %s) "
                            + "but the memory budget is %s (train.memory.limit, or --memory-limit; default: what the "
                            + "machine has free): use a smaller model (num_hidden_layers, hidden_size, intermediate_size), "
                            + "LoRA (train.lora.enabled) instead of full fine-tuning, a shorter sequence or smaller "
                            + "train.batch-size / train.method.chunk-size, or a higher budget / a machine with more "
                            + "memory",
                    what, gib(total), e.parameters(), gib(e.weightBytes()), gib(e.optimizerBytes()),
                    gib(e.kvCacheBytes()), gib(e.activationBytes()), gib(available)));
        }
        if (e.largestTensor() > MAX_ARRAY_ELEMENTS) {
            throw new IllegalArgumentException(what + ": its largest weight tensor has " + e.largestTensor()
                    + " elements, more than a Java array holds (" + MAX_ARRAY_ELEMENTS + "): reduce vocab_size, "
                    + "hidden_size or intermediate_size");
        }
    }

    /** Refuses to load a model whose weights alone cannot fit (for eval, grad and loading a checkpoint). */
    public static void requireWeights(String what, LlamaConfig c, int bytesPerValue, long available) {
        require(what, () -> {
            MemoryEstimate e = of(c, null, bytesPerValue, 1, 1, 1, true);
            return new MemoryEstimate(e.parameters(), 0, e.weightBytes(), 0, 0, 0, e.largestTensor());
        }, available);
    }

    static String gib(long bytes) {
        if (bytes == Long.MAX_VALUE) {
            return "more than 8 EiB";
        }
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    private static long clamp(long value, long min, long max) {
        return Math.max(min, Math.min(max, value));
    }

    private static long mul(long a, long b) {
        return Math.multiplyExact(a, b);
    }

    private static long add(long a, long b) {
        return Math.addExact(a, b);
    }

    private static long sub(long a, long b) {
        return Math.subtractExact(a, b);
    }
}
