/**
 * A command: a name, its arguments' schemas (the same as the API contract's, src/shared/api-args.ts
 * API_ARGS, for the calls the UI makes), and the rules. Every call validates its arguments first,
 * whichever front end made it, so none can skip a check.
 */
import type * as v from 'valibot';
import { ApiError } from '../../shared/api';
import { parseArgument } from '../../shared/api-args';
import { RENEWAL_SOURCE } from '../../shared/model';
import { BootstrapUnderWayError } from '../store';
import type { CommandContext } from './context';

export type ArgSpec = readonly (readonly [string, v.GenericSchema])[];
type Outputs<A extends ArgSpec> = { -readonly [K in keyof A]: A[K] extends readonly [string, infer S extends v.GenericSchema] ? v.InferOutput<S> : never };
type Inputs<A extends ArgSpec> = { -readonly [K in keyof A]: A[K] extends readonly [string, infer S extends v.GenericSchema] ? v.InferInput<S> | v.InferOutput<S> : never };

export type Command<A extends ArgSpec, R> = ((ctx: CommandContext, ...args: Inputs<A>) => Promise<R>) & { readonly commandName: string; readonly args: A };

/** A bootstrap (or its undo) already waits for the phone: refused with the job to cancel. */
export function bootstrapUnderWay(e: BootstrapUnderWayError): ApiError {
  // A renewal sent to the phone cannot be cancelled (store.cancelJob): its words say what ends it.
  const renewal = e.job.source === RENEWAL_SOURCE && e.job.state === 'sent';
  const { mac, id: job, state } = e.job;
  return new ApiError('conflict', e.message, renewal ? [{ key: 'renewalUnderWay', params: { mac, job } }] : [{ key: 'bootstrapUnderWay', params: { mac, job, state } }]);
}

export function defineCommand<const A extends ArgSpec, R>(name: string, args: A, run: (ctx: CommandContext, ...args: Outputs<A>) => R | Promise<R>): Command<A, Awaited<R>> {
  const fn = async (ctx: CommandContext, ...raw: unknown[]): Promise<Awaited<R>> => {
    const parsed = args.map(([argName, schema], i) => parseArgument(schema, argName, raw[i], name)) as Outputs<A>;
    try {
      return await run(ctx, ...parsed);
    } catch (e) {
      // The store refuses what its transaction finds already done by another front end.
      if (e instanceof BootstrapUnderWayError) throw bootstrapUnderWay(e);
      throw e;
    }
  };
  return Object.assign(fn, { commandName: name, args }) as unknown as Command<A, Awaited<R>>;
}
