package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Frozen weights stay in the checkpoint's dtype (bf16 or fp16: half the memory of fp32) and are widened to the
 * compute dtype only while they are used, into one buffer per role (and shape) reused by every layer and chunk: the model
 * holds one layer's weights in fp32 at a time, never a second fp32 copy of the model. Widening bf16 or fp16 to
 * fp32 or fp64 is exact, so gradients equal those of a model upcast at load.
 */
final class WideningBuffers {
    private final DataType computeType;
    private final Map<String, INDArray> buffers = new HashMap<>();

    WideningBuffers(DataType computeType) {
        this.computeType = computeType;
    }

    /** {@code tensor} itself if it is in the compute dtype, else its widened copy in the buffer for {@code role}. */
    INDArray widened(String role, INDArray tensor) {
        if (tensor.dataType() == computeType) {
            return tensor;
        }
        INDArray buffer = buffers.computeIfAbsent(role + Arrays.toString(tensor.shape()),
                key -> Nd4j.create(computeType, tensor.shape()));
        return buffer.assign(tensor);
    }

    /**
     * {@code tensor} [rows, cols] transposed, in the compute dtype, in the buffer for {@code role}: [cols, rows],
     * contiguous (the frozen projections' layout, LayerGraph). Always a copy, also for a tensor already in the
     * compute dtype.
     */
    INDArray transposed(String role, INDArray tensor) {
        long[] shape = {tensor.size(1), tensor.size(0)};
        INDArray buffer = buffers.computeIfAbsent(role + "^T" + Arrays.toString(shape),
                key -> Nd4j.create(computeType, shape));
        TransposedCopy.into(tensor, buffer);
        return buffer;
    }

    /**
     * As {@link #widened}, for a tensor whose shape changes from call to call (a bf16 K/V cache's past, which
     * grows chunk by chunk): one flat buffer per role, grown by half when too small, its start viewed in the
     * tensor's shape (c order). The view is valid until the next call for the same role.
     */
    INDArray widenedAnyShape(String role, INDArray tensor) {
        if (tensor.dataType() == computeType) {
            return tensor;
        }
        long size = tensor.length();
        INDArray flat = buffers.get(role);
        if (flat == null || flat.length() < size) {
            flat = Nd4j.create(computeType, flat == null ? size : Math.max(size, flat.length() + flat.length() / 2));
            buffers.put(role, flat);
        }
        return flat.get(NDArrayIndex.interval(0, size)).reshape('c', tensor.shape()).assign(tensor);
    }
}
