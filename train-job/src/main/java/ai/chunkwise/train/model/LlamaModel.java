package ai.chunkwise.train.model;

import ai.chunkwise.train.checkpoint.LlamaTensorLayout;
import ai.chunkwise.train.checkpoint.LoraConfig;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code LlamaForCausalLM} evaluated chunk by chunk: one SameDiff graph ({@link LlamaChunkGraph})
 * built once, fed per chunk with embeddings, rotary tables, an attention mask, targets and the past K/V.
 *
 * <p>Trainable tensors carry their checkpoint names: every model.safetensors tensor for full fine-tuning,
 * the PEFT adapter's lora_A/lora_B tensors with LoRA. {@link #trainableParameters()} returns the very arrays
 * the graph reads: update them in place (the optimizer does) and the next chunk sees the new values.
 */
public final class LlamaModel {
    /** Additive mask value for hidden keys: exp(score - 1e9 - max) underflows to exactly 0 in float32 and 64. */
    private static final double MASKED = -1e9;
    /** Resident-memory growth after which a backward pass triggers a GC (see releaseNativeMemoryIfGrown). */
    public static final long DEFAULT_COLLECTION_THRESHOLD_BYTES = 0;
    /**
     * Smallest resident-memory growth after which a forward pass triggers a GC: a forward chunk leaves native
     * garbage, so without this SeCO's pass 1 grew with the sequence before its first backward; collecting after
     * every forward chunk instead would cost a large share of the chunk's time (docs/dl4j-m2.1.md).
     */
    static final long MIN_FORWARD_COLLECTION_BYTES = 256L << 20;

    private final LlamaConfig config;
    private final DataType dataType;
    private final int batch;
    private final INDArray embedding;
    private final boolean fullFineTuning;
    private final RotaryEmbedding rotary;
    private final LlamaChunkGraph graph;
    private final Map<String, INDArray> trainable;
    private GradientFunction gradientFunction;
    private long collectionThresholdBytes = DEFAULT_COLLECTION_THRESHOLD_BYTES;
    private long residentAfterLastCollection;

    /**
     * @param weights HF-named weights (any float dtype; converted to {@code dataType}; arrays already in
     *                {@code dataType} are used as they are, not copied, so updating them updates the model)
     * @param adapter a LoRA adapter to train (base frozen), or null for full fine-tuning
     * @param batch   rows per chunk (fixed for the graph's life)
     */
    public LlamaModel(LlamaConfig config, Map<String, INDArray> weights, PeftAdapter adapter, DataType dataType,
                      int batch) {
        if (!dataType.isFPType()) {
            throw new IllegalArgumentException("model dtype must be a floating type (FLOAT or DOUBLE), got " + dataType);
        }
        this.config = config;
        this.dataType = dataType;
        this.batch = batch;
        this.fullFineTuning = adapter == null;
        this.rotary = new RotaryEmbedding(config, dataType);
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

    /**
     * {@link #backward} runs {@code System.gc()} when the process's resident memory has grown by more than
     * this many bytes since the last such collection, to release SameDiff's native buffers (0: after every
     * backward pass; Long.MAX_VALUE: never). Default {@link #DEFAULT_COLLECTION_THRESHOLD_BYTES}.
     * {@link #forward} does the same with a threshold of at least {@link #MIN_FORWARD_COLLECTION_BYTES}.
     */
    public void setNativeMemoryCollectionThreshold(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("collection threshold must be >= 0 bytes, got " + bytes);
        }
        this.collectionThresholdBytes = bytes;
    }

    /** Forward pass of one chunk without gradients (SeCO/SpaCO pass 1, evaluation). */
    public ChunkForward forward(ChunkInput in, KeyValues past, boolean withLogits) {
        Map<String, INDArray> feed = feed(in, past);
        List<String> outputs = new ArrayList<>();
        outputs.add(LlamaChunkGraph.LOSS);
        if (withLogits) {
            outputs.add(LlamaChunkGraph.LOGITS);
        }
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            outputs.add(LlamaChunkGraph.presentKey(l));
            outputs.add(LlamaChunkGraph.presentValue(l));
        }
        GradientFunction.boundCache(graph.sameDiff());
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
        releaseNativeMemoryIfGrown(Math.max(collectionThresholdBytes, MIN_FORWARD_COLLECTION_BYTES));
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
        Map<String, INDArray> feed = feed(in, past);
        feedPresentGrad(feed, presentGrad, in.length());
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
        releaseNativeMemoryIfGrown(collectionThresholdBytes);
        return new ChunkBackward(loss, pastGrads);
    }

    /**
     * SameDiff M2.1 frees the ~600 native buffers of a backward pass only when the GC collects their small Java
     * wrappers, which a roomy heap rarely does: native memory then grows to GBs and fresh pages fault on every
     * step (docs/dl4j-m2.1.md). So: when the resident set has grown by more than the threshold since the last
     * collection, collect now (default 0: after every backward pass, the lowest peak memory measured; a tiny
     * model may prefer to skip the collection's cost). No deterministic alternative was found: INDArray.close()
     * does not return the memory in M2.1 on CPU (nor does deallocating the OpaqueDataBuffer), and running the
     * gradient function with its session's memory manager closing every released array only halved the growth. Only the GC-driven deallocator frees it.
     */
    private void releaseNativeMemoryIfGrown(long thresholdBytes) {
        long resident = Pointer.physicalBytes();
        if (thresholdBytes != Long.MAX_VALUE && resident - residentAfterLastCollection > thresholdBytes) {
            System.gc();
            residentAfterLastCollection = Pointer.physicalBytes();
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
     * d loss / d embedding = scatter-add of the gradient of each looked-up row into its token's row. Written
     * by hand because the library's path for this (sd.gather backward) is broken in M2.1 and a one-hot
     * matmul would cost vocab*T*hidden.
     */
    private void scatterAddEmbeddingGradient(long[][] tokens, INDArray rowGrads, Map<String, INDArray> sink) {
        INDArray acc = sink.computeIfAbsent(LlamaTensorLayout.EMBED_TOKENS,
                k -> Nd4j.create(dataType, config.vocabSize(), config.hiddenSize()));
        int hidden = config.hiddenSize();
        double[] rows = rowGrads.dup('c').data().asDouble();
        DataBuffer target = acc.data();
        long base = acc.offset();
        int n = 0;
        for (long[] row : tokens) {
            for (long token : row) {
                long start = base + token * hidden;
                int from = n * hidden;
                for (int i = 0; i < hidden; i++) {
                    target.put(start + i, target.getDouble(start + i) + rows[from + i]);
                }
                n++;
            }
        }
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

    /** Placeholders of a forward pass: inputs, rotary tables, mask, targets and the past K/V. */
    private Map<String, INDArray> feed(ChunkInput in, KeyValues past) {
        int b = in.batch();
        int t = in.length();
        if (b != batch) {
            throw new IllegalArgumentException("chunk has " + b + " rows but the model was built for batch " + batch);
        }
        if (past.layers() != config.numHiddenLayers()) {
            throw new IllegalArgumentException("past K/V covers " + past.layers() + " layers, the model has "
                    + config.numHiddenLayers());
        }
        Map<String, INDArray> feed = new HashMap<>();
        feed.put(LlamaChunkGraph.INPUTS_EMBEDS, lookUpEmbeddings(in.tokens()));
        putRotaryTables(in.positions(), feed);
        feed.put(LlamaChunkGraph.ATTENTION_MASK, attentionMask(in, (int) past.length()));
        int[] labels = new int[b * t];
        double[] weights = new double[b * t];
        for (int r = 0; r < b; r++) {
            System.arraycopy(in.labels()[r], 0, labels, r * t, t);
            System.arraycopy(in.lossWeights()[r], 0, weights, r * t, t);
        }
        feed.put(LlamaChunkGraph.LABELS, Nd4j.createFromArray(labels));
        feed.put(LlamaChunkGraph.LOSS_WEIGHTS, Nd4j.create(weights, new long[]{(long) b * t, 1}, dataType));
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            feed.put(LlamaChunkGraph.pastKey(l), inDataType(past.keys()[l]));
            feed.put(LlamaChunkGraph.pastValue(l), inDataType(past.values()[l]));
        }
        return feed;
    }

    /** The upstream gradient for the chunk's own K/V (zeros when there is none). */
    private void feedPresentGrad(Map<String, INDArray> feed, KeyValues presentGrad, int t) {
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            INDArray gk = presentGrad != null ? inDataType(presentGrad.keys()[l])
                    : Nd4j.create(dataType, batch, config.numKeyValueHeads(), t, config.headDim());
            INDArray gv = presentGrad != null ? inDataType(presentGrad.values()[l])
                    : Nd4j.create(dataType, batch, config.numKeyValueHeads(), t, config.headDim());
            feed.put(LlamaChunkGraph.presentKeyGrad(l), gk);
            feed.put(LlamaChunkGraph.presentValueGrad(l), gv);
        }
    }

    private INDArray lookUpEmbeddings(long[][] tokens) {
        int b = tokens.length;
        int t = tokens[0].length;
        int[] ids = new int[b * t];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                long id = tokens[r][i];
                if (id < 0 || id >= config.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " at row " + r + ", chunk position " + i
                            + " is outside the vocabulary [0, " + config.vocabSize() + ")");
                }
                ids[r * t + i] = (int) id;
            }
        }
        return Nd4j.pullRows(embedding, 1, ids);
    }

    /** cos/sin of every position, repeated for each query head and each KV head (see LlamaChunkGraph). */
    private void putRotaryTables(int[][] positions, Map<String, INDArray> feed) {
        int b = positions.length;
        int t = positions[0].length;
        int d = config.headDim();
        double[] cos = new double[b * t * d];
        double[] sin = new double[b * t * d];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                rotary.fill(positions[r][i], cos, sin, (r * t + i) * d);
            }
        }
        feed.put(LlamaChunkGraph.ROPE_COS_Q, perHead(cos, b, t, config.numAttentionHeads()));
        feed.put(LlamaChunkGraph.ROPE_SIN_Q, perHead(sin, b, t, config.numAttentionHeads()));
        feed.put(LlamaChunkGraph.ROPE_COS_K, perHead(cos, b, t, config.numKeyValueHeads()));
        feed.put(LlamaChunkGraph.ROPE_SIN_K, perHead(sin, b, t, config.numKeyValueHeads()));
    }

    /** [B, T, heads, headDim] from a [B*T, headDim] table: the same row for every head. */
    private INDArray perHead(double[] table, int b, int t, int heads) {
        int d = config.headDim();
        double[] out = new double[b * t * heads * d];
        for (int row = 0; row < b * t; row++) {
            for (int h = 0; h < heads; h++) {
                System.arraycopy(table, row * d, out, (row * heads + h) * d, d);
            }
        }
        return Nd4j.create(out, new long[]{b, t, heads, d}, dataType);
    }

    /**
     * [B, 1, nRep*T, P+T] additive mask: query i (key index P+i) sees key j iff j <= P+i and j lies in the same
     * document, i.e. in the contiguous run of equal segment ids that ends at P+i. Rows are repeated nRep times
     * to match the grouped query layout of the graph. Built as float (0 and -1e9 are exact in float32) and
     * widened for float64, so a long past costs 4 bytes per entry while building.
     */
    private INDArray attentionMask(ChunkInput in, int p) {
        int b = in.batch();
        int t = in.length();
        int keys = p + t;
        int nRep = config.numAttentionHeads() / config.numKeyValueHeads();
        long size = (long) b * nRep * t * keys;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("attention mask of " + b + " rows x " + nRep + " heads per KV head x "
                    + t + " queries x " + keys + " keys exceeds 2^31 entries: use a smaller chunk size or batch");
        }
        int[][] segments = in.segments();
        float[] mask = new float[(int) size];
        Arrays.fill(mask, (float) MASKED);
        for (int r = 0; r < b; r++) {
            int[] seg = segments == null ? null : segments[r];
            if (seg != null && seg.length != keys) {
                throw new IllegalArgumentException("segments of row " + r + " cover " + seg.length
                        + " positions, expected past " + p + " + chunk " + t);
            }
            int documentStart = 0;   // first key of the document that holds key p+i
            for (int i = 0; i < t; i++) {
                int query = p + i;
                if (seg != null) {
                    if (i == 0) {
                        documentStart = query;
                        while (documentStart > 0 && seg[documentStart - 1] == seg[query]) {
                            documentStart--;
                        }
                    } else if (seg[query] != seg[query - 1]) {
                        documentStart = query;
                    }
                }
                int rowBase = ((r * nRep) * t + i) * keys;
                Arrays.fill(mask, rowBase + documentStart, rowBase + query + 1, 0f);
            }
            for (int rep = 1; rep < nRep; rep++) {
                System.arraycopy(mask, (r * nRep) * t * keys, mask, (r * nRep + rep) * t * keys, t * keys);
            }
        }
        INDArray m = Nd4j.create(mask, new long[]{b, 1, (long) nRep * t, keys}, 'c');
        return m.dataType() == dataType ? m : m.castTo(dataType);
    }
}
