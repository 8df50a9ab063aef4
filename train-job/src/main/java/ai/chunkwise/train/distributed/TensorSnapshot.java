package ai.chunkwise.train.distributed;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named tensors copied into plain Java arrays, exactly (float32 as float[], float64 as double[]), to travel between
 * the driver and executors: the trainable weights of a step, or a micro-batch's gradients. Plain arrays keep ND4J
 * out of deserialization, so an executor can set up ND4J (native build, memory budget) before anything loads it.
 */
public final class TensorSnapshot implements Serializable {
    private static final long serialVersionUID = 1L;
    private final LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
    private final LinkedHashMap<String, Object> values = new LinkedHashMap<>();

    private TensorSnapshot() {
    }

    /** A copy of {@code tensors} (float32 or float64 each), in their order. */
    public static TensorSnapshot of(Map<String, INDArray> tensors) {
        TensorSnapshot s = new TensorSnapshot();
        tensors.forEach((name, t) -> {
            INDArray c = t.dup('c');
            s.shapes.put(name, t.shape());
            if (t.dataType() == DataType.DOUBLE) {
                s.values.put(name, c.data().asDouble());
            } else if (t.dataType() == DataType.FLOAT) {
                s.values.put(name, c.data().asFloat());
            } else {
                throw new IllegalArgumentException("tensor " + name + " is " + t.dataType()
                        + ": only float32 and float64 tensors are trained and sent between machines");
            }
        });
        return s;
    }

    /** New arrays holding the values, in the snapshot's order. */
    public Map<String, INDArray> toArrays() {
        Map<String, INDArray> arrays = new LinkedHashMap<>();
        shapes.forEach((name, shape) -> arrays.put(name, array(name)));
        return arrays;
    }

    /** Writes the values into {@code targets} (same names and shapes), e.g. a model's trainable parameters. */
    public void copyInto(Map<String, INDArray> targets) {
        if (!targets.keySet().equals(shapes.keySet())) {
            throw new IllegalArgumentException("the driver sent tensors " + shapes.keySet() + " but this executor's "
                    + "model trains " + targets.keySet() + ": driver and executors built different models");
        }
        targets.forEach((name, t) -> t.assign(array(name)));
    }

    private INDArray array(String name) {
        long[] shape = shapes.get(name);
        Object v = values.get(name);
        INDArray flat = v instanceof double[] d ? Nd4j.createFromArray(d) : Nd4j.createFromArray((float[]) v);
        return flat.reshape('c', shape).dup('c');
    }
}
