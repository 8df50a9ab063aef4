package ai.chunkwise.train.model;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.internal.SessionMemMgr;
import org.nd4j.autodiff.samediff.internal.memory.AbstractMemoryMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A LoRA backward computes no gradient of a frozen base weight: no array of a projection weight's shape is
 * allocated by the layer graphs' gradient calls (full fine-tuning, where every weight trains, allocates them: the
 * check can fail). That the LoRA gradients stay exact is checked against PEFT in float64 (HfFloat64ReferenceTest)
 * and against plain back-propagation (SecoMatchesFullTest).
 */
class FrozenProjectionTest {
    private static final LoraConfig LORA = new LoraConfig(4, 8, List.of("q_proj", "v_proj", "down_proj"));

    @Test
    void loraBackwardAllocatesNoFrozenWeightGradient() {
        LlamaConfig config = RandomLlama.config(2, 32, 4, 2, 48, 61, false, null);
        Set<List<Long>> weightShapes = new HashSet<>();
        for (LlamaProjection p : LlamaProjection.values()) {
            long in = p.inFeatures(config);
            long out = p.outFeatures(config);
            weightShapes.add(List.of(out, in));
            weightShapes.add(List.of(in, out));
        }
        List<List<Long>> lora = weightShapedAllocations(config, RandomLlama.adapter(config, LORA, 2), weightShapes);
        List<List<Long>> full = weightShapedAllocations(config, null, weightShapes);
        assertTrue(full.size() >= 7, "full fine-tuning's backward allocates each weight's gradient: " + full);
        assertEquals(List.of(), lora, "the LoRA backward allocated arrays of a frozen weight's shape");
    }

    /** Shapes among {@code watched} that the layer graphs' gradient sessions allocate in one backward chunk. */
    private static List<List<Long>> weightShapedAllocations(LlamaConfig config, LoraWeights adapter,
                                                            Set<List<Long>> watched) {
        LlamaModel model = new LlamaModel(config, RandomLlama.weights(config, 1), adapter, DataType.DOUBLE, 1);
        ChunkInput chunk = chunk(config, 5);
        model.backward(chunk, KeyValues.empty(config, 1, DataType.DOUBLE), null, new LinkedHashMap<>());
        List<List<Long>> seen = new ArrayList<>();
        for (LayerGraph graph : model.layerGraphs()) {
            graph.backwardGraph().wrapSessionMemory(inner -> new Recording(inner, watched, seen));
        }
        model.backward(chunk, KeyValues.empty(config, 1, DataType.DOUBLE), null, new LinkedHashMap<>());
        return seen;
    }

    private static ChunkInput chunk(LlamaConfig config, int t) {
        long[][] tokens = RandomLlama.tokens(1, t, config.vocabSize(), 5);
        int[][] positions = new int[1][t];
        int[][] labels = new int[1][t];
        double[][] weights = new double[1][t];
        for (int i = 0; i < t; i++) {
            positions[0][i] = i;
            labels[0][i] = (int) ((tokens[0][i] * 7 + 3) % config.vocabSize());
            weights[0][i] = 1.0 / t;
        }
        return new ChunkInput(tokens, positions, new int[][]{new int[t]}, labels, weights);
    }

    /** Passes every request through, noting the shapes that are in {@code watched}. */
    private static final class Recording extends AbstractMemoryMgr {
        private final SessionMemMgr inner;
        private final Set<List<Long>> watched;
        private final List<List<Long>> seen;

        Recording(SessionMemMgr inner, Set<List<Long>> watched, List<List<Long>> seen) {
            this.inner = inner;
            this.watched = watched;
            this.seen = seen;
        }

        private INDArray note(INDArray a) {
            List<Long> shape = Arrays.stream(a.shape()).boxed().toList();
            if (watched.contains(shape)) {
                seen.add(shape);
            }
            return a;
        }

        @Override
        public INDArray allocate(boolean detached, DataType dataType, long... shape) {
            return note(inner.allocate(detached, dataType, shape));
        }

        @Override
        public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
            return note(inner.allocate(detached, descriptor));
        }

        @Override
        public void release(INDArray array) {
            inner.release(array);
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
