package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.RandomLlama;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Packed documents must not see each other: rows holding several documents give exactly the loss and the
 * gradients of the same documents run one by one (each a batch of its own, positions from 0), combined with
 * the documents' target counts as weights. Checked for plain back-propagation and SeCO, with documents that
 * start inside a chunk and on a chunk boundary (where the KV cache of earlier documents is dropped), in float64.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DocumentBoundaryTest {
    private LlamaConfig config;
    private LlamaModel single;
    private LlamaModel pair;

    @BeforeAll
    void setUp() {
        config = RandomLlama.tinyTiedGqa();
        Map<String, INDArray> weights = RandomLlama.weights(config, 31);
        single = new LlamaModel(config, weights, null, DataType.DOUBLE, 1);
        pair = new LlamaModel(config, weights, null, DataType.DOUBLE, 2);
    }

    /** Loss and gradients of the documents run separately, weighted as one mean over all their targets. */
    private BatchGradients separately(long[][] documents) {
        Map<String, INDArray> grads = new LinkedHashMap<>();
        double lossSum = 0;
        long targets = 0;
        for (long[] doc : documents) {
            BatchGradients g = new FullBackprop(single).compute(Batch.of(new long[][]{doc}));
            lossSum += g.loss() * g.predictedTokens();
            targets += g.predictedTokens();
            g.gradients().forEach((n, t) -> grads.merge(n, t.mul(g.predictedTokens()), INDArray::addi));
        }
        long n = targets;
        grads.values().forEach(t -> t.divi(n));
        return new BatchGradients(lossSum / n, grads, n, documents.length, documents.length);
    }

    private static long[] concat(long[]... parts) {
        return Arrays.stream(parts).flatMapToLong(Arrays::stream).toArray();
    }

    private void assertSame(BatchGradients expected, Function<LlamaModel, GradientEngine> engine, LlamaModel model,
                            Batch packed, String what) {
        BatchGradients g = engine.apply(model).compute(packed);
        assertEquals(expected.predictedTokens(), g.predictedTokens(), what + ": counted targets");
        assertEquals(expected.loss(), g.loss(), 1e-12 * expected.loss(), what + ": loss");
        double worst = GradientComparison.assertAllClose(g.gradients(), expected.gradients(), 1e-12, what);
        System.err.printf("%s: packed vs separate, worst relative gradient error %.2e%n", what, worst);
    }

    @Test
    void twoDocumentsInOneRowEqualTheDocumentsRunSeparately() {
        long[] a = RandomLlama.tokens(1, 12, config.vocabSize(), 1)[0];
        long[] b = RandomLlama.tokens(1, 12, config.vocabSize(), 2)[0];
        BatchGradients expected = separately(new long[][]{a, b});
        Batch packed = new Batch(new long[][]{concat(a, b)}, null, new int[][]{{0, 12}});
        assertSame(expected, FullBackprop::new, single, packed, "full");
        assertSame(expected, m -> new SecoEngine(m, 5), single, packed, "seco chunk 5 (document starts mid-chunk)");
        assertSame(expected, m -> new SecoEngine(m, 4), single, packed, "seco chunk 4 (document starts on a boundary)");
        assertSame(expected, m -> new SecoEngine(m, 12), single, packed, "seco chunk 12 (one chunk per document)");
    }

    @Test
    void twoRowsWithDifferentDocumentLayouts() {
        long[] a = RandomLlama.tokens(1, 8, config.vocabSize(), 3)[0];
        long[] b = RandomLlama.tokens(1, 6, config.vocabSize(), 4)[0];
        long[] c = RandomLlama.tokens(1, 5, config.vocabSize(), 5)[0];
        long[] d = RandomLlama.tokens(1, 10, config.vocabSize(), 6)[0];
        long[] e = RandomLlama.tokens(1, 5, config.vocabSize(), 7)[0];
        // row 0: a | b | c  (starts 0, 8, 14), row 1: d | e (starts 0, 10); chunk 5 -> boundary at 10 for row 1
        // only (the past is kept for the batch but masked), at 5 and 15 for neither
        BatchGradients expected = separately(new long[][]{a, b, c, d, e});
        Batch packed = new Batch(new long[][]{concat(a, b, c, new long[]{0}), concat(d, e, new long[]{0, 0, 0, 0, 0})},
                new boolean[][]{mask(20, 19), mask(20, 15)}, new int[][]{{0, 8, 14}, {0, 10}});
        assertSame(expected, FullBackprop::new, pair, packed, "full, 2 rows");
        assertSame(expected, m -> new SecoEngine(m, 5), pair, packed, "seco chunk 5, 2 rows");
        assertSame(expected, m -> new SecoEngine(m, 7), pair, packed, "seco chunk 7, 2 rows");
    }

    /** Targets 1 .. realLength-1 count; trailing padding does not. */
    private static boolean[] mask(int length, int realLength) {
        boolean[] m = new boolean[length];
        for (int j = 1; j < realLength; j++) {
            m[j] = true;
        }
        return m;
    }
}
