package ai.chunkwise.train.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.HashMap;
import java.util.Map;

import static ai.chunkwise.train.bench.EagerAttention.head;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

/**
 * {@link EagerAttention}'s math over blocks of keys with an online softmax (the flash-attention recurrence), so no
 * [T, P+T] matrix exists: per head, the forward keeps a running row max m, row sum l and unnormalised output,
 * rescaled by exp(m_old - m_new) as each block arrives, and saves only lse = m + log(l) [T] for the backward,
 * which recomputes each block's probabilities as exp(s q K_b^T + mask - lse).
 */
public final class BlockwiseAttention extends EagerAttentionCore {
    private final int blockKeys;

    /** @param blockKeys keys per block (the last block of a row takes what is left) */
    public BlockwiseAttention(int blockKeys) {
        this.blockKeys = blockKeys;
    }

    @Override
    public String name() {
        return "blockwise";
    }

    @Override
    public AttentionGradients run(AttentionInputs in) {
        ledger.reset();
        DataType type = in.q().dataType();
        int heads = in.heads();
        long t = in.chunk();
        Map<Integer, INDArray> scratch = new HashMap<>();   // [T, width] per block width, reused across blocks
        INDArray out = ledger.array(type, in.q().shape());
        INDArray lse = ledger.array(type, heads, t, 1);
        for (int h = 0; h < heads; h++) {
            forward(in, h, head(out, h), lse.get(point(h), all(), all()), scratch);
        }
        INDArray dQ = ledger.array(type, in.q().shape());
        INDArray dK = ledger.array(type, in.k().shape());
        INDArray dV = ledger.array(type, in.v().shape());
        Map<Integer, INDArray> dScratch = new HashMap<>();
        for (int h = 0; h < heads; h++) {
            backward(in, h, head(out, h), lse.get(point(h), all(), all()), head(dQ, h), head(dK, h), head(dV, h),
                    scratch, dScratch);
        }
        scratch.values().forEach(ledger::free);
        dScratch.values().forEach(ledger::free);
        ledger.free(lse);
        return new AttentionGradients(out, dQ, dK, dV);
    }

    private void forward(AttentionInputs in, int h, INDArray out, INDArray lse, Map<Integer, INDArray> scratch) {
        INDArray q = head(in.q(), h);
        INDArray k = head(in.k(), h);
        INDArray v = head(in.v(), h);
        long t = in.chunk();
        INDArray max = Nd4j.valueArrayOf(new long[] {t, 1}, Double.NEGATIVE_INFINITY, q.dataType());
        INDArray sum = Nd4j.zeros(q.dataType(), t, 1);
        out.assign(0);
        for (int from = 0; from < in.keys(); from += blockKeys) {
            int to = Math.min(in.keys(), from + blockKeys);
            INDArray s = scores(in, q, k, from, to, scratch);
            INDArray newMax = Transforms.max(max, s.max(true, 1), true);
            INDArray rescale = Transforms.exp(max.subi(newMax), false);     // exp(m_old - m_new), 0 at the start
            Transforms.exp(s.subiColumnVector(newMax), false);
            sum.muli(rescale).addi(s.sum(true, 1));
            out.muliColumnVector(rescale);
            Nd4j.gemm(s, v.get(interval(from, to), all()), out, false, false, 1, 1);
            max = newMax;
        }
        out.diviColumnVector(sum);
        lse.assign(max.addi(Transforms.log(sum, false)));
    }

    private void backward(AttentionInputs in, int h, INDArray out, INDArray lse, INDArray dQ, INDArray dK,
                          INDArray dV, Map<Integer, INDArray> scratch, Map<Integer, INDArray> dScratch) {
        INDArray q = head(in.q(), h);
        INDArray k = head(in.k(), h);
        INDArray v = head(in.v(), h);
        INDArray dOut = head(in.dOut(), h);
        INDArray d = dOut.mul(out).sum(true, 1);                            // rowsum(P * dP), [T, 1]
        double scale = in.scale();
        dQ.assign(0);
        for (int from = 0; from < in.keys(); from += blockKeys) {
            int to = Math.min(in.keys(), from + blockKeys);
            INDArray p = Transforms.exp(scores(in, q, k, from, to, scratch).subiColumnVector(lse), false);
            INDArray kBlock = k.get(interval(from, to), all());
            INDArray vBlock = v.get(interval(from, to), all());
            Nd4j.gemm(p, dOut, dV.get(interval(from, to), all()), true, false, 1, 0);
            INDArray dS = dScratch.computeIfAbsent(to - from, w -> ledger.array(q.dataType(), in.chunk(), w));
            Nd4j.gemm(dOut, vBlock, dS, false, true, 1, 0);
            dS.subiColumnVector(d).muli(p);
            Nd4j.gemm(dS, kBlock, dQ, false, false, scale, 1);
            Nd4j.gemm(dS, q, dK.get(interval(from, to), all()), true, false, scale, 0);
        }
    }

    /** s q K_b^T for keys [from, to), plus the causal mask where the block reaches the chunk's own keys. */
    private INDArray scores(AttentionInputs in, INDArray q, INDArray k, int from, int to,
                            Map<Integer, INDArray> scratch) {
        INDArray s = scratch.computeIfAbsent(to - from, w -> ledger.array(q.dataType(), in.chunk(), w));
        Nd4j.gemm(q, k.get(interval(from, to), all()), s, false, true, in.scale(), 0);
        int past = in.past();
        if (to > past) {
            int first = Math.max(from, past);
            s.get(all(), interval(first - from, to - from)).addi(in.chunkMask().get(all(), interval(first - past, to - past)));
        }
        return s;
    }
}
