package ai.chunkwise.train.model;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The tiled copy gives ND4J's own transpose, bit for bit, for every dtype pair the model feeds and odd shapes. */
class TransposedCopyTest {

    @Test
    void equalsNd4jTransposeForEveryDtypePairAndOddShapes() {
        DataType[][] pairs = {{DataType.FLOAT, DataType.FLOAT}, {DataType.BFLOAT16, DataType.FLOAT},
                {DataType.DOUBLE, DataType.DOUBLE}, {DataType.FLOAT, DataType.DOUBLE},
                {DataType.BFLOAT16, DataType.DOUBLE}, {DataType.HALF, DataType.FLOAT}};
        long[][] shapes = {{1, 1}, {3, 130}, {129, 64}, {200, 77}};
        Nd4j.getRandom().setSeed(11);
        for (DataType[] pair : pairs) {
            for (long[] shape : shapes) {
                INDArray source = Nd4j.randn(DataType.DOUBLE, shape).castTo(pair[0]);
                INDArray target = Nd4j.create(pair[1], shape[1], shape[0]);
                TransposedCopy.into(source, target);
                INDArray expected = source.castTo(pair[1]).transpose().dup('c');
                assertEquals(expected, target, pair[0] + " -> " + pair[1] + " " + shape[0] + "x" + shape[1]);
            }
        }
    }

    @Test
    void aViewTakesNd4jsPath() {
        INDArray whole = Nd4j.linspace(DataType.FLOAT, 1, 60, 1).reshape(6, 10);
        INDArray view = whole.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 5),
                org.nd4j.linalg.indexing.NDArrayIndex.all());
        INDArray target = Nd4j.create(DataType.FLOAT, 10, 4);
        TransposedCopy.into(view, target);
        assertEquals(view.transpose().dup('c'), target);
    }
}
