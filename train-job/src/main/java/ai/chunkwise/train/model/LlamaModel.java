package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face {@code LlamaForCausalLM} evaluated chunk by chunk, one decoder layer at a time, as in HF's
 * LlamaModel.forward: embeddings (looked up in Java), then per layer {@link AttentionInputGraph} (norm, q/k/v,
 * RoPE), {@link BlockwiseAttention} against the cached past and the chunk's own keys, {@link LayerOutputGraph}
 * (o_proj, residual, MLP), and at the end {@link FinalNormGraph} and {@link LmHeadLoss}.
 *
 * <p>Memory is bounded by one layer, not the model: a backward pass keeps only each layer's input and the small
 * attention results (queries, the chunk's K/V, the output and its log-sum-exp) from a forward sweep, then walks the
 * layers in reverse, each recomputing its own activations inside its gradient call (checkpointing inside the
 * chunk); no [queries x keys] scores and no [tokens x vocabulary] logits are ever held whole. Frozen weights stay
 * in the dtype they arrive in (bf16 checkpoints stay bf16) and are widened per layer ({@link WideningBuffers}).
 *
 * <p>Trainable tensors carry their checkpoint names: every model.safetensors tensor for full fine-tuning,
 * the PEFT adapter's lora_A/lora_B tensors with LoRA. {@link #trainableParameters()} returns the very arrays
 * the layers read: update them in place (the optimizer does) and the next chunk sees the new values.
 */
public final class LlamaModel {
    /** Keys per attention block: measured fastest of 256-2048 on the CPU (docs/performance.md). */
    private static final int ATTENTION_BLOCK_KEYS = 512;

    private final LlamaConfig config;
    private final DataType dataType;
    private final int batch;
    private final INDArray embedding;
    private final INDArray lmHead;
    private final boolean fullFineTuning;
    private final Map<String, INDArray> base;
    private final Map<String, INDArray> trainable;
    private final AttentionInputGraph attentionInput;
    private final LayerOutputGraph layerOutput;
    private final FinalNormGraph finalNorm;
    private final BlockwiseAttention attention;
    private final WideningBuffers widening;
    private final LmHeadLoss lmHeadLoss;
    private final ChunkFeed feeds;
    private final NativeMemoryPolicy nativeMemory = new NativeMemoryPolicy();

    /**
     * @param weights HF-named weights. Trainable ones (full fine-tuning) are converted to {@code dataType} (arrays
     *                already in it are used as they are, not copied, so updating them updates the model). Frozen
     *                ones (with an adapter) in bf16 or fp16 are kept as they are and widened per layer; others are
     *                converted to {@code dataType}.
     * @param adapter a LoRA adapter to train (base frozen), or null for full fine-tuning
     * @param batch   rows per chunk (fixed for the model's life)
     */
    public LlamaModel(LlamaConfig config, Map<String, INDArray> weights, LoraWeights adapter, DataType dataType,
                      int batch) {
        this(config, weights, adapter, dataType, batch, ATTENTION_BLOCK_KEYS);
    }

    /** As above, with {@code attentionBlockKeys} keys per attention block (tests use tiny blocks). */
    LlamaModel(LlamaConfig config, Map<String, INDArray> weights, LoraWeights adapter, DataType dataType,
               int batch, int attentionBlockKeys) {
        this.attention = new BlockwiseAttention(attentionBlockKeys);
        if (!dataType.isFPType()) {
            throw new IllegalArgumentException("model dtype must be a floating type (FLOAT or DOUBLE), got " + dataType);
        }
        this.config = config;
        this.dataType = dataType;
        this.batch = batch;
        this.fullFineTuning = adapter == null;
        Map<String, INDArray> baseWeights = new HashMap<>();
        LlamaTensorLayout.expectedShapes(config).forEach((name, shape) -> {
            INDArray w = weights.get(name);
            if (w == null) {
                throw new IllegalArgumentException("weights lack tensor '" + name + "' that a Llama with "
                        + config.numHiddenLayers() + " layers needs");
            }
            if (!Arrays.equals(w.shape(), shape)) {
                throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(w.shape())
                        + ", the config needs " + Arrays.toString(shape));
            }
            baseWeights.put(name, fullFineTuning || !keptNarrow(w) ? inDataType(w) : w);
        });
        if (adapter != null) {
            adapter.requireCompatible(config);
        }
        this.base = Collections.unmodifiableMap(baseWeights);
        LoraConfig lora = adapter == null ? null : adapter.config();
        this.attentionInput = new AttentionInputGraph(config, lora, dataType, batch);
        this.layerOutput = new LayerOutputGraph(config, lora, dataType, batch);
        this.finalNorm = new FinalNormGraph(config, fullFineTuning, dataType, batch);
        this.widening = new WideningBuffers(dataType);
        this.lmHeadLoss = new LmHeadLoss(widening);
        this.embedding = base.get(LlamaTensorLayout.EMBED_TOKENS);
        this.lmHead = config.tieWordEmbeddings() ? embedding : base.get(LlamaTensorLayout.LM_HEAD);
        this.feeds = new ChunkFeed(config, dataType, batch, embedding);

        // checkpoint order (model.safetensors layout, or the adapter's own order)
        Map<String, INDArray> params = new LinkedHashMap<>();
        if (fullFineTuning) {
            LlamaTensorLayout.expectedShapes(config).keySet().forEach(name -> params.put(name, base.get(name)));
        } else {
            adapter.tensors().forEach((name, t) -> params.put(name, inDataType(t)));
        }
        this.trainable = Collections.unmodifiableMap(params);
    }

    /** bf16 and fp16 frozen weights stay as they are (half of fp32's memory); widening them is exact. */
    private boolean keptNarrow(INDArray w) {
        return (w.dataType() == DataType.BFLOAT16 || w.dataType() == DataType.HALF) && dataType != w.dataType();
    }

    private INDArray inDataType(INDArray w) {
        return w.dataType() == dataType ? w : w.castTo(dataType);
    }

    public LlamaConfig config() {
        return config;
    }

    public DataType dataType() {
        return dataType;
    }

    public int batchSize() {
        return batch;
    }

    /** Checkpoint name -> the array the model computes with (update in place). */
    public Map<String, INDArray> trainableParameters() {
        return trainable;
    }

    /** The layer graphs (each with its gradient function {@code getFunction("grad")}); for tests of their sessions. */
    List<org.nd4j.autodiff.samediff.SameDiff> graphs() {
        return layerGraphs().stream().map(LayerGraph::sameDiff).toList();
    }

    /** The layer graphs themselves, for tests. */
    List<LayerGraph> layerGraphs() {
        return List.of(attentionInput, layerOutput, finalNorm);
    }

    /** The resident-memory growth after which dead native buffers are handed back ({@link NativeMemoryPolicy}). */
    public void setNativeMemoryCollectionThreshold(long bytes) {
        nativeMemory.setCollectionThreshold(bytes);
    }

    /** Forward pass of one chunk without gradients (SeCO/SpaCO pass 1, evaluation). */
    public ChunkForward forward(ChunkInput in, KeyValues past, boolean withLogits) {
        ChunkFeed.Prepared chunk = feeds.prepare(in, past);
        Sweep sweep = forwardSweep(chunk, past, false);
        LmHeadLoss.Result head = head(sweep.last(), chunk, false, null, withLogits);
        INDArray logits = withLogits ? head.logits().reshape(batch, in.length(), config.vocabSize()) : null;
        nativeMemory.afterForward();
        return new ChunkForward(head.loss(), sweep.present(), logits);
    }

    /**
     * Forward + backward of one chunk: gradients of (weighted loss + sum(K*presentGrad.K) + sum(V*presentGrad.V))
     * are ADDED into {@code gradientSink} (checkpoint names; missing entries are created), and the gradient
     * with respect to the past K/V is returned.
     *
     * @param presentGrad upstream gradient for this chunk's own K/V, or null for none (the last chunk)
     */
    public ChunkBackward backward(ChunkInput in, KeyValues past, KeyValues presentGrad,
                                  Map<String, INDArray> gradientSink) {
        KeyValues pastGrads = past.length() > 0 ? KeyValues.zeros(config, batch, past.length(), dataType) : null;
        double loss = backward(in, past, presentGrad, gradientSink, pastGrads);
        return new ChunkBackward(loss, pastGrads);
    }

    /**
     * As {@link #backward(ChunkInput, KeyValues, KeyValues, Map)}, with the gradient for the past K/V ADDED into
     * {@code pastGradSink} (e.g. views of SeCO's accumulated buffer; ignored when there is no past), so no
     * past-sized array is allocated per chunk; returns the chunk's loss. The past and the sink may be narrower
     * than the model's dtype (a bf16 K/V cache): each layer's past is then widened before it is read, and its
     * gradient is added to a widened copy of the layer's sink, which is rounded back into the sink once (both
     * into buffers reused by every layer and chunk: one layer's past and sink in the compute dtype at a time).
     */
    public double backward(ChunkInput in, KeyValues past, KeyValues presentGrad, Map<String, INDArray> gradientSink,
                           KeyValues pastGradSink) {
        ChunkFeed.Prepared chunk = feeds.prepare(in, past);
        Sweep sweep = forwardSweep(chunk, past, true);
        INDArray headGrad = !fullFineTuning ? null : gradientSink.computeIfAbsent(
                config.tieWordEmbeddings() ? LlamaTensorLayout.EMBED_TOKENS : LlamaTensorLayout.LM_HEAD,
                name -> Nd4j.create(dataType, config.vocabSize(), config.hiddenSize()));
        LmHeadLoss.Result head = head(sweep.last(), chunk, true, headGrad, false);

        Map<String, INDArray> normFeed = weightFeed(finalNorm, 0);
        normFeed.put(FinalNormGraph.HIDDEN, sweep.last());
        normFeed.put(LayerGraph.gradientOf(FinalNormGraph.NORMED), head.inputGrad());
        Map<String, INDArray> normGrads = finalNorm.backward(normFeed);
        addTrainableGradients(finalNorm, 0, normGrads, gradientSink);
        INDArray hiddenGrad = normGrads.get(FinalNormGraph.HIDDEN).dup();

        int layers = config.numHiddenLayers();
        boolean hasPast = past.length() > 0;
        if (hasPast && pastGradSink == null) {
            throw new IllegalArgumentException("a chunk with a past needs somewhere to put the past's gradient");
        }
        for (int l = layers - 1; l >= 0; l--) {
            SavedLayer saved = sweep.saved()[l];
            Map<String, INDArray> outFeed = weightFeed(layerOutput, l);
            outFeed.put(LayerOutputGraph.HIDDEN, saved.input());
            outFeed.put(LayerOutputGraph.CONTEXT, saved.attention().context());
            outFeed.put(LayerGraph.gradientOf(LayerOutputGraph.OUT), hiddenGrad);
            Map<String, INDArray> outGrads = layerOutput.backward(outFeed);
            addTrainableGradients(layerOutput, l, outGrads, gradientSink);

            // a narrower sink (a bf16 K/V gradient buffer) receives the layer's past gradient added in the
            // compute dtype, then rounded once; a sink in the compute dtype is added into directly
            INDArray pastKeySink = hasPast ? widening.widenedAnyShape("past-key-grad", pastGradSink.keys()[l]) : null;
            INDArray pastValueSink = hasPast
                    ? widening.widenedAnyShape("past-value-grad", pastGradSink.values()[l]) : null;
            BlockwiseAttention.Gradients att = attention.backward(saved.query(), pastKey(past, l),
                    pastValue(past, l), saved.key(), saved.value(), saved.attention(),
                    outGrads.get(LayerOutputGraph.CONTEXT), chunk.ranges(), pastKeySink, pastValueSink);
            if (hasPast && pastKeySink != pastGradSink.keys()[l]) {
                pastGradSink.keys()[l].assign(pastKeySink);
                pastGradSink.values()[l].assign(pastValueSink);
            }
            if (presentGrad != null) {
                att.key().addi(inDataType(presentGrad.keys()[l]));
                att.value().addi(inDataType(presentGrad.values()[l]));
            }
            Map<String, INDArray> inFeed = weightFeed(attentionInput, l);
            inFeed.put(AttentionInputGraph.HIDDEN, saved.input());
            inFeed.putAll(chunk.rotaryTables());
            inFeed.put(LayerGraph.gradientOf(AttentionInputGraph.QUERY), att.query());
            inFeed.put(LayerGraph.gradientOf(AttentionInputGraph.KEY), att.key());
            inFeed.put(LayerGraph.gradientOf(AttentionInputGraph.VALUE), att.value());
            Map<String, INDArray> inGrads = attentionInput.backward(inFeed);
            addTrainableGradients(attentionInput, l, inGrads, gradientSink);

            hiddenGrad = outGrads.get(LayerOutputGraph.HIDDEN).add(inGrads.get(AttentionInputGraph.HIDDEN));
            nativeMemory.afterLayerBackward();
        }
        if (fullFineTuning) {
            scatterAddEmbeddingGradient(in.tokens(), hiddenGrad, gradientSink);
        }
        nativeMemory.afterBackward();
        return head.loss();
    }

    /** One layer's state a backward pass needs from the forward sweep (the rest is recomputed). */
    private record SavedLayer(INDArray input, INDArray query, INDArray key, INDArray value,
                              BlockwiseAttention.Output attention) {
    }

    /** The forward sweep's result: the last layer's output, the chunk's K/V, and (for a backward) each layer's state. */
    private record Sweep(INDArray last, KeyValues present, SavedLayer[] saved) {
    }

    private Sweep forwardSweep(ChunkFeed.Prepared chunk, KeyValues past, boolean keep) {
        int layers = config.numHiddenLayers();
        INDArray[] keys = new INDArray[layers];
        INDArray[] values = new INDArray[layers];
        SavedLayer[] saved = keep ? new SavedLayer[layers] : null;
        INDArray h = chunk.embeddings();
        for (int l = 0; l < layers; l++) {
            Map<String, INDArray> inFeed = weightFeed(attentionInput, l);
            inFeed.put(AttentionInputGraph.HIDDEN, h);
            inFeed.putAll(chunk.rotaryTables());
            Map<String, INDArray> qkv = attentionInput.output(inFeed,
                    List.of(AttentionInputGraph.QUERY, AttentionInputGraph.KEY, AttentionInputGraph.VALUE));
            // dup: arrays handed out by a SameDiff session may be recycled by its next call
            INDArray q = qkv.get(AttentionInputGraph.QUERY).dup();
            keys[l] = qkv.get(AttentionInputGraph.KEY).dup();
            values[l] = qkv.get(AttentionInputGraph.VALUE).dup();
            BlockwiseAttention.Output att = attention.forward(q, pastKey(past, l), pastValue(past, l), keys[l],
                    values[l], chunk.ranges());
            Map<String, INDArray> outFeed = weightFeed(layerOutput, l);
            outFeed.put(LayerOutputGraph.HIDDEN, h);
            outFeed.put(LayerOutputGraph.CONTEXT, att.context());
            INDArray next = layerOutput.output(outFeed, List.of(LayerOutputGraph.OUT)).get(LayerOutputGraph.OUT).dup();
            if (keep) {
                saved[l] = new SavedLayer(h, q, keys[l], values[l], att);
            }
            h = next;
            nativeMemory.afterLayerForward();
        }
        return new Sweep(h, new KeyValues(keys, values), saved);
    }

    /** Final norm and LM head + loss on the last layer's output. */
    private LmHeadLoss.Result head(INDArray last, ChunkFeed.Prepared chunk, boolean backward, INDArray headGrad,
                                  boolean withLogits) {
        Map<String, INDArray> normFeed = weightFeed(finalNorm, 0);
        normFeed.put(FinalNormGraph.HIDDEN, last);
        INDArray normed = finalNorm.output(normFeed, List.of(FinalNormGraph.NORMED)).get(FinalNormGraph.NORMED);
        return lmHeadLoss.run(normed, lmHead, chunk.labels(), chunk.lossWeights(), backward, headGrad, withLogits);
    }

    /** A layer's past keys in the compute dtype: as they are, or widened into a buffer reused by every layer. */
    private INDArray pastKey(KeyValues past, int layer) {
        return past.length() == 0 ? null : widening.widenedAnyShape("past-key", past.keys()[layer]);
    }

    private INDArray pastValue(KeyValues past, int layer) {
        return past.length() == 0 ? null : widening.widenedAnyShape("past-value", past.values()[layer]);
    }

    /** A graph's weight placeholders for {@code layer}: trainable arrays as they are, frozen ones widened. */
    private Map<String, INDArray> weightFeed(LayerGraph graph, int layer) {
        Map<String, INDArray> feed = new HashMap<>();
        Set<String> transposed = graph.transposedWeights();
        graph.tensorNames(layer).forEach((placeholder, name) -> {
            INDArray t = trainable.get(name);
            if (t != null) {
                feed.put(placeholder, t);
            } else if (transposed.contains(placeholder)) {
                feed.put(placeholder, widening.transposed(placeholder, base.get(name)));
            } else {
                feed.put(placeholder, widening.widened(placeholder, base.get(name)));
            }
        });
        return feed;
    }

    private void addTrainableGradients(LayerGraph graph, int layer, Map<String, INDArray> grads,
                                       Map<String, INDArray> sink) {
        Map<String, String> names = graph.tensorNames(layer);
        for (String placeholder : graph.trainable()) {
            addInto(sink, names.get(placeholder), grads.get(placeholder));
        }
    }

    private void addInto(Map<String, INDArray> sink, String name, INDArray grad) {
        if (grad == null) {
            throw new IllegalStateException("SameDiff returned no gradient for '" + name + "'");
        }
        INDArray acc = sink.get(name);
        if (acc == null) {
            sink.put(name, grad.dup());
        } else {
            acc.addi(grad);
        }
    }

    /**
     * d loss / d embedding = scatter-add of the gradient of each looked-up row into its token's row, by ND4J's
     * scatter_add (the library's path for this, sd.gather's backward, is broken in M2.1, and a one-hot matmul
     * would cost vocab*T*hidden). Its "lock" argument makes it add the rows one after another in chunk order:
     * without it the rows are split over threads and a token that occurs twice is added twice at once.
     */
    private void scatterAddEmbeddingGradient(long[][] tokens, INDArray rowGrads, Map<String, INDArray> sink) {
        INDArray acc = sink.computeIfAbsent(LlamaTensorLayout.EMBED_TOKENS,
                k -> Nd4j.create(dataType, config.vocabSize(), config.hiddenSize()));
        long[] ids = new long[tokens.length * tokens[0].length];
        int n = 0;
        for (long[] row : tokens) {
            for (long token : row) {
                ids[n++] = token;
            }
        }
        Nd4j.exec(DynamicCustomOp.builder("scatter_add")
                .addInputs(acc, Nd4j.createFromArray(ids), rowGrads)
                .addOutputs(acc)
                .addBooleanArguments(true)   // lock: one thread, rows in order
                .callInplace(true)
                .build());
    }
}
