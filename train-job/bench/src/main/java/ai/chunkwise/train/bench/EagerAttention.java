package ai.chunkwise.train.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

/**
 * The attention core as eager ND4J calls outside any graph, one head at a time with 2-D gemm (BLAS straight on
 * views, the 1/sqrt(hd) scale folded into gemm's alpha), the causal mask added to the last T columns only, and a
 * hand-written backward:
 * <pre>
 *   S = s q K^T + mask, P = softmax(S), out = P V
 *   dV = P^T dOut, dP = dOut V^T, D = rowsum(dOut * out) (= rowsum(P * dP)), dS = P * (dP - D),
 *   dQ = s dS K, dK = s dS^T q
 * </pre>
 * The forward keeps every head's P [T, P+T] for the backward, as a split chunk graph would have to between its
 * forward and backward.
 */
public final class EagerAttention extends EagerAttentionCore {

    @Override
    public String name() {
        return "eager";
    }

    @Override
    public AttentionGradients run(AttentionInputs in) {
        ledger.reset();
        DataType type = in.q().dataType();
        int heads = in.heads();
        long t = in.chunk();
        long keys = in.keys();
        double scale = in.scale();
        INDArray out = ledger.array(type, 1, heads, t, in.headDim());
        INDArray probs = ledger.array(type, heads, t, keys);
        for (int h = 0; h < heads; h++) {
            INDArray p = probs.get(point(h), all(), all());
            Nd4j.gemm(head(in.q(), h), head(in.k(), h), p, false, true, scale, 0);
            p.get(all(), interval(in.past(), keys)).addi(in.chunkMask());
            Nd4j.exec(new SoftMax(p, p, 1));
            Nd4j.gemm(p, head(in.v(), h), head(out, h), false, false, 1, 0);
        }
        INDArray dQ = ledger.array(type, in.q().shape());
        INDArray dK = ledger.array(type, in.k().shape());
        INDArray dV = ledger.array(type, in.v().shape());
        INDArray dS = ledger.array(type, t, keys);
        for (int h = 0; h < heads; h++) {
            INDArray p = probs.get(point(h), all(), all());
            INDArray dOutH = head(in.dOut(), h);
            Nd4j.gemm(p, dOutH, head(dV, h), true, false, 1, 0);
            Nd4j.gemm(dOutH, head(in.v(), h), dS, false, true, 1, 0);
            INDArray d = dOutH.mul(head(out, h)).sum(true, 1);
            dS.subiColumnVector(d).muli(p);
            Nd4j.gemm(dS, head(in.k(), h), head(dQ, h), false, false, scale, 0);
            Nd4j.gemm(dS, head(in.q(), h), head(dK, h), true, false, scale, 0);
        }
        ledger.free(dS);
        ledger.free(probs);
        return new AttentionGradients(out, dQ, dK, dV);
    }

    /** Head h of a [1, heads, n, hd] array: a contiguous [n, hd] view. */
    static INDArray head(INDArray a, int h) {
        return a.get(point(0), point(h), all(), all());
    }
}
