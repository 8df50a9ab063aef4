package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The data a {@link LlamaChunkGraph} is fed for one chunk: embedding rows looked up in Java, rotary tables, the
 * additive attention mask (causal + document boundaries), targets and their loss weights, the past K/V and,
 * for a backward pass, the upstream gradient of the chunk's own K/V.
 */
final class ChunkFeed {
    /** Additive mask value for hidden keys: exp(score - 1e9 - max) underflows to exactly 0 in float32 and 64. */
    private static final double MASKED = -1e9;

    private final LlamaConfig config;
    private final DataType dataType;
    private final int batch;
    private final RotaryEmbedding rotary;
    private final INDArray embedding;

    /** @param embedding the [vocab, hidden] table the rows are looked up in (the model's own array) */
    ChunkFeed(LlamaConfig config, DataType dataType, int batch, INDArray embedding) {
        this.config = config;
        this.dataType = dataType;
        this.batch = batch;
        this.rotary = new RotaryEmbedding(config, dataType);
        this.embedding = embedding;
    }

    private INDArray inDataType(INDArray w) {
        return w.dataType() == dataType ? w : w.castTo(dataType);
    }

    /** Placeholders of a forward pass: inputs, rotary tables, mask, targets and the past K/V. */
    Map<String, INDArray> forward(ChunkInput in, KeyValues past) {
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

    /** Adds a backward pass's upstream gradient for the chunk's own K/V (zeros when there is none). */
    void addPresentGrad(Map<String, INDArray> feed, KeyValues presentGrad, int t) {
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
