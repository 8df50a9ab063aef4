package ai.chunkwise.train.bench;

import ai.chunkwise.train.model.GradientFunction;
import ai.chunkwise.train.model.TransposedCopy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One frozen projection's gradient call (forward + dx), the two ways SameDiff can express it, side by side in one
 * JVM, repeats interleaved: {@code mmul} (x W^T with W [out, in] as stored: its backward is one matmul_bp op that
 * also computes dW) against {@code linear} (xw_plus_b on W^T plus a zero bias, as LayerGraph builds frozen
 * projections: dW is a separate op nobody asks for; the transposed copy of W it is fed (TransposedCopy) is made inside the timed
 * call, as the model does per layer). Times are medians; allocated bytes are what the gradient session asked for.
 *
 * <p>Arguments: rows in out warmups repeats. One JSON line.
 */
public final class FrozenProjectionProbe {
    private FrozenProjectionProbe() {
    }

    public static void main(String[] args) throws Exception {
        ai.chunkwise.train.backend.CpuBuild.select();
        long rows = Long.parseLong(args[0]);
        long in = Long.parseLong(args[1]);
        long out = Long.parseLong(args[2]);
        int warmups = Integer.parseInt(args[3]);
        int repeats = Integer.parseInt(args[4]);
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.FLOAT, rows, in);
        INDArray w = Nd4j.randn(DataType.FLOAT, out, in).muli(0.02);
        INDArray g = Nd4j.randn(DataType.FLOAT, rows, out);
        INDArray wT = Nd4j.create(DataType.FLOAT, in, out);

        Variant mmul = new Variant("mmul", rows, in, out, false);
        Variant linear = new Variant("linear", rows, in, out, true);
        List<Double> mmulMs = new ArrayList<>();
        List<Double> linearMs = new ArrayList<>();
        List<Double> copyMs = new ArrayList<>();
        INDArray dxMmul = null;
        INDArray dxLinear = null;
        for (int i = 0; i < warmups + repeats; i++) {
            long t0 = System.nanoTime();
            dxMmul = mmul.run(x, w, g);
            long t1 = System.nanoTime();
            TransposedCopy.into(w, wT);
            long tCopy = System.nanoTime();
            dxLinear = linear.run(x, wT, g);
            long t2 = System.nanoTime();
            if (i >= warmups) {
                mmulMs.add((t1 - t0) / 1e6);
                linearMs.add((t2 - t1) / 1e6);
                copyMs.add((tCopy - t1) / 1e6);
            }
        }
        double mmulMedian = median(mmulMs);
        double linearMedian = median(linearMs);
        ObjectNode line = new ObjectMapper().createObjectNode();
        line.put("probe", "frozen-projection");
        line.put("rows", rows);
        line.put("in", in);
        line.put("out", out);
        line.put("repeats", repeats);
        line.put("mmul_ms", mmulMedian);
        line.put("linear_ms", linearMedian);
        line.put("linear_transposed_copy_ms", median(copyMs));
        line.put("linear_over_mmul_time", linearMedian / mmulMedian);
        line.put("mmul_allocated_bytes", mmul.ledger.allocatedBytes());
        line.put("linear_allocated_bytes", linear.ledger.allocatedBytes());
        line.put("max_abs_dx_difference", dxMmul.sub(dxLinear).amaxNumber().doubleValue());
        line.put("omp_num_threads", String.valueOf(System.getenv("OMP_NUM_THREADS")));
        line.put("load_average", Files.readString(Path.of("/proc/loadavg")).trim());
        System.out.println(line);
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** A one-projection graph, objective sum(y * g), whose gradient call returns dx. */
    private static final class Variant {
        private final GradientFunction gradients;
        private final ArrayLedger ledger = new ArrayLedger();

        Variant(String name, long rows, long in, long out, boolean linear) {
            SameDiff sd = SameDiff.create();
            SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, in);
            SDVariable g = sd.placeHolder("g", DataType.FLOAT, -1, out);
            SDVariable y;
            if (linear) {
                SDVariable wT = sd.placeHolder("w", DataType.FLOAT, in, out);
                y = sd.nn.linear(x, wT, sd.constant("zero_bias", Nd4j.zeros(DataType.FLOAT, out)));
            } else {
                SDVariable w = sd.placeHolder("w", DataType.FLOAT, out, in);
                y = sd.mmul(x, w, false, true, false);
            }
            sd.sum("objective", y.mul(g));
            sd.setLossVariables("objective");
            gradients = new GradientFunction(sd, List.of("x"));
            gradients.wrapSessionMemory(inner -> new SameDiffAttention.Counting(inner, ledger));
        }

        INDArray run(INDArray x, INDArray w, INDArray g) {
            ledger.reset();
            Map<String, INDArray> outs = gradients.run(Map.of("x", x, "w", w, "g", g), "objective", List.of("x"));
            return outs.get("x").dup();
        }
    }
}
