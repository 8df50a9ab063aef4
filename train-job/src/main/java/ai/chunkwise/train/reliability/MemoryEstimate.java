package ai.chunkwise.train.reliability;

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
 * <p>The estimate is deliberately simple (it counts the large arrays, not SameDiff's transient buffers) and is a
 * lower bound of what the run needs; it refuses a run only when even that does not fit.
 *
 * @param parameters  every weight of the model
 * @param trainable   the weights that receive gradients and optimizer moments (all, or the LoRA adapter's)
 * @param weightBytes the model's weights
 * @param optimizerBytes gradients, the accumulated gradient, and AdamW's two moments of the trainable weights
 * @param kvCacheBytes   keys and values of every layer for the whole sequence (and their gradients for seco/spaco)
 * @param activationBytes one chunk's activations through every layer (the whole sequence for full), logits included
 * @param largestTensor  elements of the largest single weight tensor
 */
public record MemoryEstimate(long parameters, long trainable, long weightBytes, long optimizerBytes, long kvCacheBytes,
                             long activationBytes, long largestTensor) {

    /** Java arrays (the random initialisation, safetensors reads) hold at most this many elements. */
    static final long MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;

    public long totalBytes() {
        return Math.addExact(Math.addExact(weightBytes, optimizerBytes), Math.addExact(kvCacheBytes, activationBytes));
    }

    /**
     * @param bytesPerValue 4 (float32) or 8 (float64)
     * @param lora          the adapter, or null for full fine-tuning
     * @param fullBackprop  plain back-propagation (activations of the whole sequence) rather than chunk-wise
     * @throws ArithmeticException if a size exceeds 2^63
     */
    public static MemoryEstimate of(LlamaConfig c, LoraConfig lora, int bytesPerValue, long batch, long seqLen,
                                    long chunk, boolean fullBackprop) {
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
        long trainable = params;
        if (lora != null) {
            long perLayerLora = 0;
            for (LlamaProjection p : lora.projections()) {
                perLayerLora = add(perLayerLora, mul(lora.rank(), add(p.inFeatures(c), p.outFeatures(c))));
            }
            trainable = mul(layers, perLayerLora);
        }
        long b = bytesPerValue;
        long weights = mul(params, b);
        long optimizer = mul(mul(4, trainable), b);   // gradient, accumulated gradient, first and second moment
        long tokens = fullBackprop ? seqLen : Math.min(chunk, seqLen);
        long kvCache = mul(mul(mul(layers, 2), mul(batch, seqLen)), mul(kv, b));
        if (!fullBackprop) {
            kvCache = mul(kvCache, 2);   // the K/V gradients that flow back to earlier chunks
        }
        long rows = mul(batch, tokens);
        // per token and layer: residual stream, norms, q/k/v/o, MLP gate/up/act/down (forward values + gradients)
        long perTokenLayer = add(add(mul(8, h), mul(2, q)), add(mul(4, kv), mul(4, inter)));
        long scores = mul(mul(3, c.numAttentionHeads()), mul(rows, seqLen));   // scores, softmax, its gradient
        long activations = mul(mul(layers, add(mul(rows, perTokenLayer), scores)), b);
        activations = add(activations, mul(mul(3, rows), mul(vocab, b)));   // logits, log-softmax, gradient
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

    private static long mul(long a, long b) {
        return Math.multiplyExact(a, b);
    }

    private static long add(long a, long b) {
        return Math.addExact(a, b);
    }
}
