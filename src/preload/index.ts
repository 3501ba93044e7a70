/**
 * Preload: exposes exactly the typed LocalDlsApi as `window.localdls`, one narrow function per
 * operation. Nothing of ipcRenderer reaches the page, and event listeners never see Electron's
 * event object. Sandboxed: the bundle needs nothing at run time but `electron`.
 */
import { contextBridge, ipcRenderer } from 'electron';
import {
  ApiError,
  fromWireError,
  ipcChannel,
  ipcEventChannel,
  type ApiEvent,
  type ApiEventPayloads,
  type ApiMethod,
  type IpcEnvelope,
  type LocalDlsApi,
  type LocalDlsCommands,
  type Unsubscribe,
} from '../shared/api';

function invoke<M extends ApiMethod>(method: M) {
  return async (...args: Parameters<LocalDlsCommands[M]>): Promise<Awaited<ReturnType<LocalDlsCommands[M]>>> => {
    const envelope = (await ipcRenderer.invoke(ipcChannel(method), ...args)) as IpcEnvelope;
    if (!envelope || typeof envelope !== 'object') throw new ApiError('internal', `${method}: no answer from the service`);
    if (!envelope.ok) throw fromWireError(envelope.error);
    return envelope.result as Awaited<ReturnType<LocalDlsCommands[M]>>;
  };
}

function subscribe<E extends ApiEvent>(event: E) {
  return (listener: (payload: ApiEventPayloads[E]) => void): Unsubscribe => {
    if (typeof listener !== 'function') throw new ApiError('bad-argument', 'listener must be a function');
    const wrapped = (_event: Electron.IpcRendererEvent, payload: ApiEventPayloads[E]) => listener(payload);
    ipcRenderer.on(ipcEventChannel(event), wrapped);
    return () => {
      ipcRenderer.removeListener(ipcEventChannel(event), wrapped);
    };
  };
}

const api: LocalDlsApi = {
  getStatus: invoke('getStatus'),
  listExchanges: invoke('listExchanges'),
  getExchange: invoke('getExchange'),
  revealExchangeItem: invoke('revealExchangeItem'),
  exportExchanges: invoke('exportExchanges'),
  clearView: invoke('clearView'),
  listDevices: invoke('listDevices'),
  getDevice: invoke('getDevice'),
  revealDeviceItem: invoke('revealDeviceItem'),
  listJobs: invoke('listJobs'),
  addJob: invoke('addJob'),
  cancelJob: invoke('cancelJob'),
  contactNow: invoke('contactNow'),
  listProfiles: invoke('listProfiles'),
  setProfile: invoke('setProfile'),
  applyProfile: invoke('applyProfile'),
  getOverrides: invoke('getOverrides'),
  setOverrides: invoke('setOverrides'),
  clearOverrides: invoke('clearOverrides'),
  itemCatalogue: invoke('itemCatalogue'),
  getSecureStatus: invoke('getSecureStatus'),
  startBootstrap: invoke('startBootstrap'),
  getBootstrapRun: invoke('getBootstrapRun'),
  bootstrapPinSheet: invoke('bootstrapPinSheet'),
  cancelBootstrapRun: invoke('cancelBootstrapRun'),
  setTlsProfile: invoke('setTlsProfile'),
  setUpstream: invoke('setUpstream'),
  exportTraffic: invoke('exportTraffic'),
  getInteraction: invoke('getInteraction'),
  getDeviceTimeline: invoke('getDeviceTimeline'),
  listRollouts: invoke('listRollouts'),
  getRollout: invoke('getRollout'),
  retryFailed: invoke('retryFailed'),
  setTlsKeyLog: invoke('setTlsKeyLog'),
  onExchanges: subscribe('exchanges'),
  onDevicesChanged: subscribe('devicesChanged'),
  onStatus: subscribe('status'),
  onJobsChanged: subscribe('jobsChanged'),
  onBootstrap: subscribe('bootstrap'),
};

contextBridge.exposeInMainWorld('localdls', Object.freeze(api));
