package ai.chunkwise.train.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

/**
 * {@link EagerAttention}'s math with the rank-4 batched matmul that SameDiff's mmul runs (all heads in one call)
 * instead of a 2-D gemm per head: separates what the graph costs from what its matmul kernel costs.
 */
public final class BatchedEagerAttention extends EagerAttentionCore {

    @Override
    public String name() {
        return "eager-batched";
    }

    @Override
    public AttentionGradients run(AttentionInputs in) {
        ledger.reset();
        DataType type = in.q().dataType();
        int heads = in.heads();
        long t = in.chunk();
        long keys = in.keys();
        double scale = in.scale();
        INDArray scaledQ = ledger.array(type, in.q().shape());
        scaledQ.assign(in.q()).muli(scale);
        INDArray probs = ledger.array(type, 1, heads, t, keys);
        Nd4j.matmul(scaledQ, in.k(), probs, false, true, false);
        for (int h = 0; h < heads; h++) {
            probs.get(point(0), point(h), all(), interval(in.past(), keys)).addi(in.chunkMask());
        }
        Nd4j.exec(new SoftMax(probs, probs, 3));
        INDArray out = ledger.array(type, in.q().shape());
        Nd4j.matmul(probs, in.v(), out, false, false, false);

        INDArray dV = ledger.array(type, in.v().shape());
        Nd4j.matmul(probs, in.dOut(), dV, true, false, false);
        INDArray dS = ledger.array(type, 1, heads, t, keys);
        Nd4j.matmul(in.dOut(), in.v(), dS, false, true, false);
        INDArray d = in.dOut().mul(out).sum(true, 3);                     // [1, heads, T, 1]
        for (int h = 0; h < heads; h++) {
            EagerAttention.head(dS, h).subiColumnVector(EagerAttention.head(d, h));
        }
        dS.muli(probs);
        ledger.free(probs);
        INDArray dQ = ledger.array(type, in.q().shape());
        Nd4j.matmul(dS, in.k(), dQ, false, false, false);
        dQ.muli(scale);
        INDArray dK = ledger.array(type, in.k().shape());
        Nd4j.matmul(dS, scaledQ, dK, true, false, false);                  // s dS^T q
        ledger.free(dS);
        ledger.free(scaledQ);
        return new AttentionGradients(out, dQ, dK, dV);
    }
}
