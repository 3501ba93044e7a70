/** Devices: the list with their waiting jobs, one device's items and traffic, revealing one item. */
import * as v from 'valibot';
import { ApiError, type DeviceDetail, type DeviceItemView, type DeviceView, type PendingJobCounts } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import type { Device, DeviceItem } from '../../shared/model';
import { Mac } from '../../shared/schemas';
import { NO_PENDING_JOBS } from '../store';
import { defineCommand } from './define';
import { deviceOrThrow } from './jobs';
import { maskDeviceItems } from './masking';
import { isNotStored, itemView, notStoredError } from './traffic-views';

const DEVICE_TRAFFIC_LIMIT = 500;

export function deviceView(d: Device, jobs: PendingJobCounts | undefined): DeviceView {
  return { ...d, jobs: jobs ?? { ...NO_PENDING_JOBS } };
}

export const listDevices = defineCommand('listDevices', API_ARGS.listDevices, (ctx): DeviceView[] => {
  const counts = ctx.store.pendingJobCounts();
  return ctx.store.devices().map((d) => deviceView(d, counts.get(d.mac)));
});

export const getDevice = defineCommand('getDevice', API_ARGS.getDevice, (ctx, mac): DeviceDetail => {
  const { store } = ctx;
  const device = deviceView(deviceOrThrow(ctx, mac), store.pendingJobCounts(mac).get(mac));
  const items: DeviceItemView[] = store.items(mac).map((i) => ({ ...itemView(i.name, i.index, i.value, i.status), updated: i.updated }));
  const traffic = store.exchanges({ mac, limit: DEVICE_TRAFFIC_LIMIT }).reverse();
  return { device, items, traffic, trafficTotal: store.countExchanges({ device: mac }) };
});

export const revealDeviceItem = defineCommand('revealDeviceItem', API_ARGS.revealDeviceItem, (ctx, mac, name, index): string => {
  deviceOrThrow(ctx, mac);
  const item = ctx.store.items(mac).find((x) => x.name === name && x.index === index);
  if (!item) throw new ApiError('not-found', `device ${mac} has no item ${name}${index === null ? '' : `[${index}]`}: the list shows the items the phone last reported (read them again with a ReadAllItems job)`, [{ key: 'noDeviceItem', params: { mac, item: `${name}${index === null ? '' : `[${index}]`}` } }]);
  if (isNotStored(item.name, item.value)) throw notStoredError(`device ${mac}`, item.name);
  return item.value;
});

/** A device's current items, secrets masked unless `reveal` (the CLI's --reveal). */
export const deviceItems = defineCommand('deviceItems', [['mac', Mac], ['reveal', v.boolean('must be true or false')]], (ctx, mac, reveal): DeviceItem[] => {
  deviceOrThrow(ctx, mac);
  const items = ctx.store.items(mac);
  return reveal ? items : maskDeviceItems(items);
});
