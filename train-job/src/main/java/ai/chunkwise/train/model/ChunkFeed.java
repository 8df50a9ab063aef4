package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.Map;

/**
 * What a chunk step feeds the layers besides their weights: embedding rows looked up in Java (sd.gather's backward
 * is broken in M2.1, docs/dl4j-m2.1.md), the rotary tables of the chunk's positions, the key range each query may
 * see (causal + document boundaries), and the targets with their loss weights.
 */
final class ChunkFeed {
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

    /** One chunk's inputs, prepared once and shared by every layer. */
    record Prepared(INDArray embeddings, Map<String, INDArray> rotaryTables, AttentionKeyRanges ranges,
                    int[] labels, double[] lossWeights) {
    }

    Prepared prepare(ChunkInput in, KeyValues past) {
        int b = in.batch();
        int t = in.length();
        if (b != batch) {
            throw new IllegalArgumentException("chunk has " + b + " rows but the model was built for batch " + batch);
        }
        if (past.layers() != config.numHiddenLayers()) {
            throw new IllegalArgumentException("past K/V covers " + past.layers() + " layers, the model has "
                    + config.numHiddenLayers());
        }
        Map<String, INDArray> tables = new HashMap<>();
        putRotaryTables(in.positions(), rotary.forSequence(in.effectiveRopeLength()), tables);
        int[] labels = new int[b * t];
        double[] weights = new double[b * t];
        for (int r = 0; r < b; r++) {
            System.arraycopy(in.labels()[r], 0, labels, r * t, t);
            System.arraycopy(in.lossWeights()[r], 0, weights, r * t, t);
        }
        return new Prepared(lookUpEmbeddings(in.tokens()), tables,
                AttentionKeyRanges.of(in, (int) past.length(), config.slidingWindow()),
                labels, weights);
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
        INDArray rows = Nd4j.pullRows(embedding, 1, ids);
        return rows.dataType() == dataType ? rows : rows.castTo(dataType);   // a bf16 table stays bf16
    }

    /** cos/sin of every position, repeated for each query head and each KV head (see AttentionInputGraph). */
    private void putRotaryTables(int[][] positions, RotaryEmbedding rotary, Map<String, INDArray> feed) {
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
        feed.put(AttentionInputGraph.COS_Q, perHead(cos, b, t, config.numAttentionHeads()));
        feed.put(AttentionInputGraph.SIN_Q, perHead(sin, b, t, config.numAttentionHeads()));
        feed.put(AttentionInputGraph.COS_K, perHead(cos, b, t, config.numKeyValueHeads()));
        feed.put(AttentionInputGraph.SIN_K, perHead(sin, b, t, config.numKeyValueHeads()));
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

}
