package ai.chunkwise.train.stream;

import ai.chunkwise.train.data.BatchStream;
import ai.chunkwise.train.data.DataPosition;
import ai.chunkwise.train.data.HadoopEnvironment;
import ai.chunkwise.train.data.SourceSpec;
import ai.chunkwise.train.data.TrainingSources;

import java.util.List;

/**
 * Child-JVM main of {@link BoundedHeapTest}: reads one whole shuffled epoch of a dataset through the trainer's data
 * path (TrainingSources -> TrainingStream -> BatchStream, checksums verified), and prints the rows read.
 * Args: dataset, shuffle-buffer rows, batch size.
 */
public final class DrainStream {
    private DrainStream() {
    }

    public static void main(String[] args) {
        int buffer = Integer.parseInt(args[1]);
        int batch = Integer.parseInt(args[2]);
        try (TrainingSources data = TrainingSources.open(List.of(new SourceSpec(args[0], 1)),
                HadoopEnvironment.configuration(), 0, true)) {
            data.requireBufferFits(buffer, true, Runtime.getRuntime().maxMemory());
            long rows = 0;
            long tokenSum = 0;
            try (BatchStream batches = new BatchStream(data.stream(5, true, buffer, DataPosition.start(1)), batch, true)) {
                while (rows < data.size()) {
                    long[][] tokens = batches.next().batch().tokens();
                    rows += tokens.length;
                    tokenSum += tokens[0][1];
                }
            }
            System.out.println("rows_read " + rows + " shards_verified " + data.sources().get(0).verifiedShards()
                    + " checksum " + tokenSum);
        }
    }
}
