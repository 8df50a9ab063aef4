package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code LlamaForCausalLM} evaluated chunk by chunk, in three parts: the network itself, one
 * SameDiff graph built once ({@link LlamaChunkGraph}: embeddings in, decoder layers, loss and K/V out); what it
 * is fed per chunk ({@link ChunkFeed}: embedding rows, rotary tables, the causal + document mask, targets, past
 * K/V); and when its dead native buffers are handed back ({@link NativeMemoryPolicy}).
 *
 * <p>Trainable tensors carry their checkpoint names: every model.safetensors tensor for full fine-tuning,
 * the PEFT adapter's lora_A/lora_B tensors with LoRA. {@link #trainableParameters()} returns the very arrays
 * the graph reads: update them in place (the optimizer does) and the next chunk sees the new values.
 */
public final class LlamaModel {
    private final LlamaConfig config;
    private final DataType dataType;
    private final int batch;
    private final INDArray embedding;
    private final boolean fullFineTuning;
    private final LlamaChunkGraph graph;
    private final ChunkFeed feeds;
    private final NativeMemoryPolicy nativeMemory = new NativeMemoryPolicy();
    private final Map<String, INDArray> trainable;
    private GradientFunction gradientFunction;

    /**
     * @param weights HF-named weights (any float dtype; converted to {@code dataType}; arrays already in
     *                {@code dataType} are used as they are, not copied, so updating them updates the model)
     * @param adapter a LoRA adapter to train (base frozen), or null for full fine-tuning
     * @param batch   rows per chunk (fixed for the graph's life)
     */
    public LlamaModel(LlamaConfig config, Map<String, INDArray> weights, LoraWeights adapter, DataType dataType,
                      int batch) {
        if (!dataType.isFPType()) {
            throw new IllegalArgumentException("model dtype must be a floating type (FLOAT or DOUBLE), got " + dataType);
        }
        this.config = config;
        this.dataType = dataType;
        this.batch = batch;
        this.fullFineTuning = adapter == null;
        Map<String, INDArray> base = new HashMap<>();
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
            base.put(name, inDataType(w));
        });
        if (adapter != null) {
            adapter.requireCompatible(config);
        }
        LoraConfig lora = adapter == null ? null : adapter.config();
        Map<String, INDArray> loraTensors = new HashMap<>();
        if (adapter != null) {
            adapter.tensors().forEach((name, t) -> loraTensors.put(name, inDataType(t)));
        }
        this.graph = new LlamaChunkGraph(config, base, lora, loraTensors, dataType, batch);
        // tied + full fine-tuning: the Java lookup must read the graph's (trainable) LM-head array itself
        this.embedding = fullFineTuning && config.tieWordEmbeddings()
                ? graph.sameDiff().getVariable(LlamaTensorLayout.EMBED_TOKENS).getArr()
                : base.get(LlamaTensorLayout.EMBED_TOKENS);
        this.feeds = new ChunkFeed(config, dataType, batch, embedding);

        // checkpoint order (model.safetensors layout, or the adapter's own order); the arrays the graph reads
        Map<String, INDArray> params = new LinkedHashMap<>();
        Iterable<String> names = fullFineTuning ? LlamaTensorLayout.expectedShapes(config).keySet()
                : adapter.tensors().keySet();
        for (String name : names) {
            boolean javaLookupOnly = fullFineTuning && name.equals(LlamaTensorLayout.EMBED_TOKENS)
                    && !config.tieWordEmbeddings();
            params.put(name, javaLookupOnly ? embedding : graph.sameDiff().getVariable(name).getArr());
        }
        this.trainable = Collections.unmodifiableMap(params);
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

    /** The forward graph (its gradient function is {@code getFunction("grad")}); for tests of its sessions. */
    org.nd4j.autodiff.samediff.SameDiff sameDiff() {
        return graph.sameDiff();
    }

    /** When SameDiff's dead native buffers are handed back (see {@link NativeMemoryPolicy}). */
    public NativeMemoryPolicy nativeMemory() {
        return nativeMemory;
    }

    /** Shorthand for {@code nativeMemory().setCollectionThreshold(bytes)}. */
    public void setNativeMemoryCollectionThreshold(long bytes) {
        nativeMemory.setCollectionThreshold(bytes);
    }

    /** Forward pass of one chunk without gradients (SeCO/SpaCO pass 1, evaluation). */
    public ChunkForward forward(ChunkInput in, KeyValues past, boolean withLogits) {
        Map<String, INDArray> feed = feeds.forward(in, past);
        List<String> outputs = new ArrayList<>();
        outputs.add(LlamaChunkGraph.LOSS);
        if (withLogits) {
            outputs.add(LlamaChunkGraph.LOGITS);
        }
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            outputs.add(LlamaChunkGraph.presentKey(l));
            outputs.add(LlamaChunkGraph.presentValue(l));
        }
        CallScopedSession.of(graph.sameDiff());
        Map<String, INDArray> out = graph.sameDiff().output(feed, outputs);
        int layers = config.numHiddenLayers();
        INDArray[] k = new INDArray[layers];
        INDArray[] v = new INDArray[layers];
        for (int l = 0; l < layers; l++) {
            // dup: arrays handed out by a SameDiff session may be recycled by its next call
            k[l] = out.get(LlamaChunkGraph.presentKey(l)).dup();
            v[l] = out.get(LlamaChunkGraph.presentValue(l)).dup();
        }
        INDArray logits = withLogits
                ? out.get(LlamaChunkGraph.LOGITS).reshape(batch, in.length(), config.vocabSize()).dup()
                : null;
        double loss = out.get(LlamaChunkGraph.LOSS).getDouble(0);
        nativeMemory.afterForward();
        return new ChunkForward(loss, new KeyValues(k, v), logits);
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
        Map<String, INDArray> feed = feeds.forward(in, past);
        feeds.addPresentGrad(feed, presentGrad, in.length());
        boolean hasPast = past.length() > 0;
        List<String> wanted = new ArrayList<>(graph.trainableNames());
        if (fullFineTuning) {
            wanted.add(LlamaChunkGraph.INPUTS_EMBEDS);
        }
        if (hasPast) {
            for (int l = 0; l < config.numHiddenLayers(); l++) {
                wanted.add(LlamaChunkGraph.pastKey(l));
                wanted.add(LlamaChunkGraph.pastValue(l));
            }
        }
        Map<String, INDArray> grads = gradientFunction().run(feed, LlamaChunkGraph.LOSS, wanted);
        for (String name : graph.trainableNames()) {
            addInto(gradientSink, name, grads.get(name));
        }
        if (fullFineTuning) {
            scatterAddEmbeddingGradient(in.tokens(), grads.get(LlamaChunkGraph.INPUTS_EMBEDS), gradientSink);
        }
        KeyValues pastGrads = null;
        if (hasPast) {
            int layers = config.numHiddenLayers();
            INDArray[] k = new INDArray[layers];
            INDArray[] v = new INDArray[layers];
            for (int l = 0; l < layers; l++) {
                k[l] = grads.get(LlamaChunkGraph.pastKey(l)).dup();
                v[l] = grads.get(LlamaChunkGraph.pastValue(l)).dup();
            }
            pastGrads = new KeyValues(k, v);
        }
        double loss = grads.get(LlamaChunkGraph.LOSS).getDouble(0);
        nativeMemory.afterBackward();
        return new ChunkBackward(loss, pastGrads);
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

    private GradientFunction gradientFunction() {
        if (gradientFunction == null) {
            List<String> placeholders = new ArrayList<>();
            if (fullFineTuning) {
                placeholders.add(LlamaChunkGraph.INPUTS_EMBEDS);
            }
            for (int l = 0; l < config.numHiddenLayers(); l++) {
                placeholders.add(LlamaChunkGraph.pastKey(l));
                placeholders.add(LlamaChunkGraph.pastValue(l));
            }
            gradientFunction = new GradientFunction(graph.sameDiff(), placeholders);
        }
        return gradientFunction;
    }
}
