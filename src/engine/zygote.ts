import { PYTHON_ZYGOTE } from "../assets";
import type { IsolationRuntime } from "../protocol/execution";

/** The container environment variable that carries the zygote's program (supervisor.c, "python zygote"). */
export const ZYGOTE_ENV = "ISOL8_PYTHON_ZYGOTE";

/** The container's environment entry that starts the zygote. */
export function zygoteEnv(): string {
  return `${ZYGOTE_ENV}=${PYTHON_ZYGOTE}`;
}

export interface ZygoteChoice {
  /** security.pythonZygote (the config switch). */
  enabled: boolean;
  runtime: string;
  isolation: IsolationRuntime;
  /** A custom image: its python3 and layout are not isol8's. */
  customImage: boolean;
  /** A container made for one execution (cold): a zygote would only add its start-up. */
  oneShot: boolean;
}

/**
 * Whether a container gets the python zygote. Never under gVisor: there clone3 is refused with
 * EPERM and drop_and_exec adds a filter answering ENOSYS, which the zygote's children do not
 * (supervisor.c starts no zygote there either). Pure.
 */
export function wantsZygote(choice: ZygoteChoice): boolean {
  return choice.enabled && choice.runtime === "python" && choice.isolation === "runc" && !choice.customImage && !choice.oneShot;
}
