package ai.chunkwise.train.loop;

import ai.chunkwise.train.memory.MemoryBudget;
import com.typesafe.config.Config;

/**
 * train.distributed and train.spark: where a step's micro-batches run.
 *
 * @param spark               true: on Spark executors (train.distributed = spark); false: in this process
 * @param master              the Spark master outside spark-submit ("" = none given)
 * @param executorMemoryLimit each executor's budget: "auto" or a size
 */
public record DistributedSettings(boolean spark, String master, String executorMemoryLimit) {

    static DistributedSettings from(Config train) {
        String mode = train.getString("distributed").trim();
        boolean spark = switch (mode) {
            case "none" -> false;
            case "spark" -> true;
            default -> throw new IllegalArgumentException("train.distributed must be none or spark, got '" + mode + "'");
        };
        String limit = train.getString("spark.executor-memory-limit").trim();
        if (!limit.equalsIgnoreCase(MemoryBudget.AUTO)) {
            try {
                train.getBytes("spark.executor-memory-limit");
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("train.spark.executor-memory-limit must be \"auto\" or a size such "
                        + "as 12G or 800M, got '" + limit + "'");
            }
        }
        return new DistributedSettings(spark, train.getString("spark.master").trim(), limit);
    }
}
