/**
 * The XML examples of the manual (A31003-S2000-R102-16-7620, 02/2016), quoted as printed, with
 * the printed page number (wpi-protocol.md cites the same pages). Line breaks are the PDF's: they
 * fall between attributes, inside values and even inside attribute values and end tags; `unwrap`
 * below undoes them where XML would not. Where the print is malformed, the example is quoted as
 * printed and a corrected copy says what was changed.
 */
import type { Action, Item, WorkpointMessage } from '../../src/phone/codec';

// ---------------------------------------------------------------------------------------------
// DLSMessage examples (service -> phone): what the phone codec must accept.

export interface DlsExample {
  page: string;
  xml: string;
  expected: { nonce: string; action: Action; items: Item[] };
}

const NS_SIEMENS = `xsi:schemaLocation="http://www.siemens.com/DLS"
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
xmlns="http://www.siemens.com/DLS"`;
const NS_SIEMENS_2 = `xmlns="http://www.siemens.com/DLS"
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
xsi:schemaLocation="http://www.siemens.com/DLS"`;

export const DLS_EXAMPLES: DlsExample[] = [
  {
    page: 'p.34 ReadAllItems (with the p.34 namespace http://mydomain/provisioning)',
    xml: `<DLSMessage
xsi:schemaLocation="http://mydomain/provisioning"
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
xmlns="http://mydomain/provisioning">
<Message nonce="ab15234de14f15a667c6f8d">
<Action>ReadAllItems</Action>
</Message>
</DLSMessage>`,
    expected: { nonce: 'ab15234de14f15a667c6f8d', action: 'ReadAllItems', items: [] },
  },
  {
    page: 'p.35 CleanUp',
    xml: `<DLSMessage
${NS_SIEMENS}>
<Message nonce="ab15234de14f15a667c6f8d">
<Action>CleanUp</Action>
</Message>
</DLSMessage>`,
    expected: { nonce: 'ab15234de14f15a667c6f8d', action: 'CleanUp', items: [] },
  },
  {
    page: 'p.48 WriteItems',
    xml: `<DLSMessage ${NS_SIEMENS}>
<Message nonce="58D4EE11C844865CAF0E9AA11ED2856F">
<Action>WriteItems</Action>
<ItemList>
<Item name="sntp-tz-offset">60</Item>
<Item name="auto-daylight-save">true</Item>
<Item name="sntp-addr">time.nist.gov</Item>
<Item name="daylight-save">true</Item>
<Item name="daylight-save-zone-id">9</Item>
</ItemList>
</Message>
</DLSMessage>`,
    expected: {
      nonce: '58D4EE11C844865CAF0E9AA11ED2856F',
      action: 'WriteItems',
      items: [
        { name: 'sntp-tz-offset', value: '60' },
        { name: 'auto-daylight-save', value: 'true' },
        { name: 'sntp-addr', value: 'time.nist.gov' },
        { name: 'daylight-save', value: 'true' },
        { name: 'daylight-save-zone-id', value: '9' },
      ],
    },
  },
  {
    page: 'p.51 Restart',
    xml: `<DLSMessage
${NS_SIEMENS}>
<Message nonce="ab15234de14f15a667c6f8d">
<Action>Restart</Action>
</Message>
</DLSMessage>`,
    expected: { nonce: 'ab15234de14f15a667c6f8d', action: 'Restart', items: [] },
  },
  {
    page: 'p.51 factory reset',
    xml: `<DLSMessage ${NS_SIEMENS}>
<Message nonce="7D49388DE3E95AE2450BD64FEB8A2079">
<Action>Restart</Action>
<ItemList>
<Item name="restart-password">124816</Item>
<Item name="restart-type">FactoryReset</Item>
</ItemList>
</Message>
</DLSMessage>`,
    expected: {
      nonce: '7D49388DE3E95AE2450BD64FEB8A2079',
      action: 'Restart',
      items: [
        { name: 'restart-password', value: '124816' },
        { name: 'restart-type', value: 'FactoryReset' },
      ],
    },
  },
  {
    page: 'p.53 FileDeployment over FTP',
    xml: `<DLSMessage ${NS_SIEMENS}>
<Message nonce="93D295F38327460697324D39D9824FDB">
<Action>FileDeployment</Action>
<ItemList>
<Item name="file-server">192.168.1.150</Item>
<Item name="file-pwd">dlsftp5</Item>
<Item name="file-path">/media</Item>
<Item name="file-name">ringtone-phone.wav</Item>
<Item name="file-type">RINGTONE</Item>
<Item name="file-username">dls</Item>
<Item name="file-port">21</Item>
</ItemList>
</Message>
</DLSMessage>`,
    expected: {
      nonce: '93D295F38327460697324D39D9824FDB',
      action: 'FileDeployment',
      items: [
        { name: 'file-server', value: '192.168.1.150' },
        { name: 'file-pwd', value: 'dlsftp5' },
        { name: 'file-path', value: '/media' },
        { name: 'file-name', value: 'ringtone-phone.wav' },
        { name: 'file-type', value: 'RINGTONE' },
        { name: 'file-username', value: 'dls' },
        { name: 'file-port', value: '21' },
      ],
    },
  },
  {
    page: 'p.53 FileDeployment over HTTPS (value wrapped across lines)',
    xml: `<DLSMessage ${NS_SIEMENS}>
<Message nonce="93D295F38327460697324D39D9824FDB">
<Action>FileDeployment</Action>
<ItemList>
<Item name="file-type">RINGTONE</Item>
<Item name="file-username">dls</Item>
<Item name="file-https-base-url">
https://192.168.1.150/media/ringtone-phone.wav
</Item>
</ItemList>
</Message>
</DLSMessage>`,
    expected: {
      nonce: '93D295F38327460697324D39D9824FDB',
      action: 'FileDeployment',
      items: [
        { name: 'file-type', value: 'RINGTONE' },
        { name: 'file-username', value: 'dls' },
        { name: 'file-https-base-url', value: 'https://192.168.1.150/media/ringtone-phone.wav' },
      ],
    },
  },
  {
    page: 'p.55 multiple file deployment (quoted up to the items of index 1)',
    xml: `<DLSMessage ${NS_SIEMENS}>
<Message nonce="E5BFC5E2FBCE6CD3D20DC9AD975C0355">
<Action>FileDeployment</Action>
<ItemList>
<Item name="file-server" index="1">192.168.1.150</Item>
<Item name="file-path" index="1">/media/</Item>
<Item name="file-name" index="1">
Logo for OpenStage 80.png
</Item>
<Item name="file-type" index="1">LOGO</Item>
<Item name="file-pwd" index="1">dlsftp5</Item>
<Item name="file-port" index="1">21</Item>
<Item name="file-username" index="1">dls</Item>
<Item name="file-action" index="1">deploy</Item>
</ItemList>
</Message>
</DLSMessage>`,
    expected: {
      nonce: 'E5BFC5E2FBCE6CD3D20DC9AD975C0355',
      action: 'FileDeployment',
      items: [
        { name: 'file-server', index: 1, value: '192.168.1.150' },
        { name: 'file-path', index: 1, value: '/media/' },
        { name: 'file-name', index: 1, value: 'Logo for OpenStage 80.png' },
        { name: 'file-type', index: 1, value: 'LOGO' },
        { name: 'file-pwd', index: 1, value: 'dlsftp5' },
        { name: 'file-port', index: 1, value: '21' },
        { name: 'file-username', index: 1, value: 'dls' },
        { name: 'file-action', index: 1, value: 'deploy' },
      ],
    },
  },
  {
    page: 'p.57 SoftwareDeployment',
    xml: `<DLSMessage ${NS_SIEMENS}>
<Message nonce="BDB60C70FE707FD023E09F0A9363DD8D">
<Action>SoftwareDeployment</Action>
<ItemList>
<Item name="file-server">192.168.1.150</Item>
<Item name="file-pwd">dlsftp5</Item>
<Item name="file-path">/OS/SIP/HI</Item>
<Item name="file-name">OS_80_SIP_V1_R4_9_0.img</Item>
<Item name="file-type">APP</Item>
<Item name="file-username">dls</Item>
<Item name="file-port">21</Item>
<Item name="file-sw-type">Siemens SIP</Item>
<Item name="file-sw-version">1.4.9.0</Item>
<Item name="file-priority">normal</Item>
</ItemList>
</Message>
</DLSMessage>`,
    expected: {
      nonce: 'BDB60C70FE707FD023E09F0A9363DD8D',
      action: 'SoftwareDeployment',
      items: [
        { name: 'file-server', value: '192.168.1.150' },
        { name: 'file-pwd', value: 'dlsftp5' },
        { name: 'file-path', value: '/OS/SIP/HI' },
        { name: 'file-name', value: 'OS_80_SIP_V1_R4_9_0.img' },
        { name: 'file-type', value: 'APP' },
        { name: 'file-username', value: 'dls' },
        { name: 'file-port', value: '21' },
        { name: 'file-sw-type', value: 'Siemens SIP' },
        { name: 'file-sw-version', value: '1.4.9.0' },
        { name: 'file-priority', value: 'normal' },
      ],
    },
  },
  {
    page: 'p.64 bootstrapping without PIN (corrected: the second dls-server-ca lacks its ">", see P64_AS_PRINTED)',
    xml: `<DLSMessage ${NS_SIEMENS}>
<Message nonce="58D4EE11C844865CAF0E9AA11ED2856F">
<Action>WriteItems</Action>
<ItemList>
<Item name="goto-secure-mode">nopin</Item>
<Item name="dls-client-certificate">.....</Item>
<Item name="dls-server-ca" index="0">-----BEGIN
CERTIFICATE-----.....</Item>
<Item name="dls-server-ca" index="1"></Item>
<Item name="dls-secure-port">18444</Item>
</ItemList>
</Message>
</DLSMessage>`,
    expected: {
      nonce: '58D4EE11C844865CAF0E9AA11ED2856F',
      action: 'WriteItems',
      items: [
        { name: 'goto-secure-mode', value: 'nopin' },
        { name: 'dls-client-certificate', value: '.....' },
        { name: 'dls-server-ca', index: 0, value: '-----BEGIN\nCERTIFICATE-----.....' },
        { name: 'dls-server-ca', index: 1, value: '' },
        { name: 'dls-secure-port', value: '18444' },
      ],
    },
  },
  {
    page: 'p.67 bootstrapping with PIN (corrected: the printed placeholder is an unclosed element, see P67_AS_PRINTED)',
    xml: `<DLSMessage ${NS_SIEMENS}>
<Message nonce="58D4EE11C844865CAF0E9AA11ED2856F">
<Action>WriteItems</Action>
<ItemList>
<Item name="goto-secure-mode">pin</Item>
<Item name="secure-mode-data">packed-encrypted-
base64encoded-data</Item>
<Item name="max-pin-retries">3</Item>
</ItemList>
</Message>
</DLSMessage>`,
    expected: {
      nonce: '58D4EE11C844865CAF0E9AA11ED2856F',
      action: 'WriteItems',
      items: [
        { name: 'goto-secure-mode', value: 'pin' },
        { name: 'secure-mode-data', value: 'packed-encrypted-\nbase64encoded-data' },
        { name: 'max-pin-retries', value: '3' },
      ],
    },
  },
  {
    page: 'p.68 ReadItems bootstrapping-tan',
    xml: `<DLSMessage ${NS_SIEMENS}>
<Message nonce="58D4EE11C844865CAF0E9AA11ED2856F">
<Action>ReadItems</Action>
<ItemList>
<Item name="bootstrapping-tan"></Item>
</ItemList>
</Message>
</DLSMessage>`,
    expected: { nonce: '58D4EE11C844865CAF0E9AA11ED2856F', action: 'ReadItems', items: [{ name: 'bootstrapping-tan', value: '' }] },
  },
  {
    page: 'p.70 GetNextFragment',
    xml: `<DLSMessage ${NS_SIEMENS}>
<Message nonce="B0151B36FE9CEEA0F667FF3A208AC994">
<Action>GetNextFragment</Action>
</Message>
</DLSMessage>`,
    expected: { nonce: 'B0151B36FE9CEEA0F667FF3A208AC994', action: 'GetNextFragment', items: [] },
  },
  {
    page: 'p.76 CleanUp with send-solicited',
    xml: `<DLSMessage ${NS_SIEMENS_2}>
<Message nonce="EB2C4CDF45D86E548CCD6F6612B26112">
<Action>CleanUp</Action>
<ItemList>
<Item name="send-solicited">true</Item>
</ItemList>
</Message>
</DLSMessage>`,
    expected: { nonce: 'EB2C4CDF45D86E548CCD6F6612B26112', action: 'CleanUp', items: [{ name: 'send-solicited', value: 'true' }] },
  },
  {
    page: 'p.78 WriteItems of an item the phone does not know',
    xml: `<DLSMessage ${NS_SIEMENS_2}>
<Message nonce="7FAA6353A4887BBFA14B78370FE99144">
<Action>WriteItems</Action>
<ItemList>
<Item name="socketed-headset-mode">0</Item>
</ItemList>
</Message>
</DLSMessage>`,
    expected: { nonce: '7FAA6353A4887BBFA14B78370FE99144', action: 'WriteItems', items: [{ name: 'socketed-headset-mode', value: '0' }] },
  },
  {
    page: 'p.78 CleanUp',
    xml: `<DLSMessage ${NS_SIEMENS_2}>
<Message nonce="CF8CDC3C82D1FC7966B6318537C6E0F6">
<Action>CleanUp</Action>
</Message>
</DLSMessage>`,
    expected: { nonce: 'CF8CDC3C82D1FC7966B6318537C6E0F6', action: 'CleanUp', items: [] },
  },
  {
    page: 'p.83 CleanUp',
    xml: `<DLSMessage ${NS_SIEMENS_2}>
<Message nonce="34459A26CEBCF29550D72BE0ECB655C3">
<Action>CleanUp</Action>
</Message>
</DLSMessage>`,
    expected: { nonce: '34459A26CEBCF29550D72BE0ECB655C3', action: 'CleanUp', items: [] },
  },
];

/** p.64 as printed: `<Item name="dls-server-ca" index="1"</Item>` is not XML (wpi-protocol.md §8.7). */
export const P64_AS_PRINTED = `<DLSMessage ${NS_SIEMENS}>
<Message nonce="58D4EE11C844865CAF0E9AA11ED2856F">
<Action>WriteItems</Action>
<ItemList>
<Item name="goto-secure-mode">nopin</Item>
<Item name="dls-client-certificate">.....</Item>
<Item name="dls-server-ca" index="0">-----BEGIN
CERTIFICATE-----.....</Item>
<Item name="dls-server-ca" index="1"</Item>
<Item name="dls-secure-port">18444</Item>
</ItemList>
</Message>
</DLSMessage>`;

/** p.67 as printed: the placeholder `<packed-encrypted-base64encoded-data>` opens an element it never closes. */
export const P67_AS_PRINTED = `<DLSMessage ${NS_SIEMENS}>
<Message nonce="58D4EE11C844865CAF0E9AA11ED2856F">
<Action>WriteItems</Action>
<ItemList>
<Item name="goto-secure-mode">pin</Item>
<Item name="secure-mode-data"><packed-encrypted-
base64encoded-data></Item>
<Item name="max-pin-retries">3</Item>
</ItemList>
</Message>
</DLSMessage>`;

// ---------------------------------------------------------------------------------------------
// WorkpointMessage examples (phone -> service): what the phone codec must produce.

export interface WpmExample {
  page: string;
  xml: string;
  /** The message the phone codec builds for it. */
  message: WorkpointMessage;
  omitItemList?: boolean;
  /**
   * 'exact': same elements, attributes in the same order (the layout the phone codec follows);
   * 'any-order': this page prints the attributes in another order, which XML does not distinguish.
   */
  order: 'exact' | 'any-order';
}

export const WPM_EXAMPLES: WpmExample[] = [
  {
    page: 'p.33 start-up (a stray ">" printed after the root end tag left out)',
    order: 'exact',
    xml: `<WorkpointMessage
${NS_SIEMENS}>
<Message nonce="ab15234de14f15a667c6f8d">
<ReasonForContact>start-up</ReasonForContact>
<ItemList>
<Item name="device-type">OpenStage 60</Item>
<Item name="related-device-type">OpenStage 60</Item>
<Item name="software-type">Siemens SIP</Item>
<Item name="related-software-type">Siemens SIP</Item>
<Item name="contact-me-uri">
http://192.168.3.33:8085/contact_dls.html/ContactDLS
</Item>
<Item name="mac-addr">00:01:E3:00:A9:F3</Item>
<Item name="configuration-changed-flag">false</Item>
<Item name="part-number">S30817-S7403-A101-015</Item>
<Item name="sip-mobility-state">0</Item>
<Item name="e164">49897223290</Item>
<Item name="user-pwd">123456</Item>
<Item status="failed" name="user-pwd-unicode"/>
<Item name="basic-e164">49897223290</Item>
<Item name="mobility-enabled">false</Item>
</ItemList>
</Message>
</WorkpointMessage>`,
    message: {
      nonce: 'ab15234de14f15a667c6f8d',
      reason: 'start-up',
      items: [
        { name: 'device-type', value: 'OpenStage 60' },
        { name: 'related-device-type', value: 'OpenStage 60' },
        { name: 'software-type', value: 'Siemens SIP' },
        { name: 'related-software-type', value: 'Siemens SIP' },
        { name: 'contact-me-uri', value: 'http://192.168.3.33:8085/contact_dls.html/ContactDLS' },
        { name: 'mac-addr', value: '00:01:E3:00:A9:F3' },
        { name: 'configuration-changed-flag', value: 'false' },
        { name: 'part-number', value: 'S30817-S7403-A101-015' },
        { name: 'sip-mobility-state', value: '0' },
        { name: 'e164', value: '49897223290' },
        { name: 'user-pwd', value: '123456' },
        { name: 'user-pwd-unicode', value: '', status: 'failed' },
        { name: 'basic-e164', value: '49897223290' },
        { name: 'mobility-enabled', value: 'false' },
      ],
    },
  },
  {
    page: 'p.48 WriteItems accepted',
    order: 'any-order',
    xml: `<WorkpointMessage ${NS_SIEMENS}>
<Message fragment="final" maxItems="-1"
nonce="0A8D39A3253E92715EFA5F5F63C25FFB">
<ReasonForContact status="accepted" action="WriteItems">
reply-to
</ReasonForContact>
<ItemList/>
</Message>
</WorkpointMessage>`,
    message: { nonce: '0A8D39A3253E92715EFA5F5F63C25FFB', maxItems: -1, fragment: 'final', reason: 'reply-to', status: 'accepted', action: 'WriteItems', items: [] },
  },
  {
    page: 'p.54 status after a file deployment (corrected: "</Item" after part-number closed)',
    order: 'any-order',
    xml: `<WorkpointMessage ${NS_SIEMENS}>
<Message maxItems="-1"
nonce="4F6A1034A46B463F8D008DA09314040A">
<ReasonForContact>status</ReasonForContact>
<ItemList>
<Item name="device-type">OpenStage 60</Item>
<Item name="related-device-type">OpenStage 60</Item>
<Item status="failed" name="gigabit-ethernet"/>
<Item name="software-type">Siemens SIP</Item>
<Item name="related-software-type">Siemens SIP</Item>
<Item name="software-version">V1 R4.9.0</Item>
<Item name="related-software-version">V1 R4.9.0</Item>
<Item name="contact-me-uri">
http://192.168.1.4:8085/contact_dls.html/ContactDLS
</Item>
<Item name="mac-addr">00:01:E3:25:EA:13</Item>
<Item name="configuration-changed-flag">false</Item>
<Item name="part-number">S30817-S7403-A101-015</Item>
<Item name="sip-mobility-state">0</Item>
<Item name="e164">49897223290</Item>
<Item name="user-pwd">123456</Item>
<Item status="failed" name="user-pwd-unicode"/>
<Item name="basic-e164">49897223290</Item>
<Item name="mobility-enabled">false</Item>
<Item name="file-deployment-date">10:06:2008</Item>
<Item name="file-deployment-time">15:35:52</Item>
<Item name="file-deployment-name">
ringtone-phone.wav
</Item>
<Item name="file-deployment-type">RINGTONE</Item>
<Item name="file-deployment-status">ok</Item>
</ItemList>
</Message>
</WorkpointMessage>`,
    message: {
      nonce: '4F6A1034A46B463F8D008DA09314040A',
      maxItems: -1,
      reason: 'status',
      items: [
        { name: 'device-type', value: 'OpenStage 60' },
        { name: 'related-device-type', value: 'OpenStage 60' },
        { name: 'gigabit-ethernet', value: '', status: 'failed' },
        { name: 'software-type', value: 'Siemens SIP' },
        { name: 'related-software-type', value: 'Siemens SIP' },
        { name: 'software-version', value: 'V1 R4.9.0' },
        { name: 'related-software-version', value: 'V1 R4.9.0' },
        { name: 'contact-me-uri', value: 'http://192.168.1.4:8085/contact_dls.html/ContactDLS' },
        { name: 'mac-addr', value: '00:01:E3:25:EA:13' },
        { name: 'configuration-changed-flag', value: 'false' },
        { name: 'part-number', value: 'S30817-S7403-A101-015' },
        { name: 'sip-mobility-state', value: '0' },
        { name: 'e164', value: '49897223290' },
        { name: 'user-pwd', value: '123456' },
        { name: 'user-pwd-unicode', value: '', status: 'failed' },
        { name: 'basic-e164', value: '49897223290' },
        { name: 'mobility-enabled', value: 'false' },
        { name: 'file-deployment-date', value: '10:06:2008' },
        { name: 'file-deployment-time', value: '15:35:52' },
        { name: 'file-deployment-name', value: 'ringtone-phone.wav' },
        { name: 'file-deployment-type', value: 'RINGTONE' },
        { name: 'file-deployment-status', value: 'ok' },
      ],
    },
  },
  {
    page: 'p.64 bootstrapping accepted (also p.67)',
    order: 'any-order',
    xml: `<WorkpointMessage ${NS_SIEMENS}>
<Message fragment="final" maxItems="-1"
nonce="58D4EE11C844865CAF0E9AA11ED2856F">
<ReasonForContact status="accepted" action="WriteItems">
reply-to
</ReasonForContact>
<ItemList/>
</Message>
</WorkpointMessage>`,
    message: { nonce: '58D4EE11C844865CAF0E9AA11ED2856F', maxItems: -1, fragment: 'final', reason: 'reply-to', status: 'accepted', action: 'WriteItems', items: [] },
  },
  {
    page: 'p.68 bootstrapping-tan',
    order: 'any-order',
    xml: `<WorkpointMessage ${NS_SIEMENS}>
<Message fragment="final" maxItems="-1"
nonce="58D4EE11C844865CAF0E9AA11ED2856F">
<ReasonForContact status="accepted" action="ReadItems">
reply-to
</ReasonForContact>
<ItemList>
<Item name="bootstrapping-tan">321</Item>
</ItemList>
</Message>
</WorkpointMessage>`,
    message: {
      nonce: '58D4EE11C844865CAF0E9AA11ED2856F',
      maxItems: -1,
      fragment: 'final',
      reason: 'reply-to',
      status: 'accepted',
      action: 'ReadItems',
      items: [{ name: 'bootstrapping-tan', value: '321' }],
    },
  },
  {
    page: 'p.76 busy (no ItemList; also p.46)',
    order: 'any-order',
    xml: `<WorkpointMessage xsi:schemaLocation="http://www.siemens.com/DLS"
xmlns="http://www.siemens.com/DLS" xmlns:xsi="http://www.w3.org/
2001/XMLSchema-instance">
<Message nonce="957AE6C2E40C0E916B7CD5636480F171" maxItems="-1"
fragment="final">
<ReasonForContact status="busy" action="WriteItems">
reply-to</ReasonForContact>
</Message>
</WorkpointMessage>`,
    message: { nonce: '957AE6C2E40C0E916B7CD5636480F171', maxItems: -1, fragment: 'final', reason: 'reply-to', status: 'busy', action: 'WriteItems', items: [] },
    omitItemList: true,
  },
  {
    page: 'p.78 unknown item',
    order: 'exact',
    xml: `<WorkpointMessage ${NS_SIEMENS}>
<Message nonce="9DD3EB02AA6A93A00CA63EE07B25ABF3" maxItems="-1"
fragment="final">
<ReasonForContact status="accepted" action="WriteItems">
reply-to</ReasonForContact>
<ItemList>
<Item status="unknown item"
name="socketed-headset-mode"></Item>
</ItemList>
</Message>
</WorkpointMessage>`,
    message: {
      nonce: '9DD3EB02AA6A93A00CA63EE07B25ABF3',
      maxItems: -1,
      fragment: 'final',
      reason: 'reply-to',
      status: 'accepted',
      action: 'WriteItems',
      items: [{ name: 'socketed-headset-mode', value: '', status: 'unknown item' }],
    },
  },
  {
    page: 'p.81 items that could not be saved',
    order: 'exact',
    xml: `<WorkpointMessage ${NS_SIEMENS}>
<Message nonce="BFBD54B05B45E13F9E7E773F65CE3956" maxItems="-1"
fragment="final">
<ReasonForContact status="accepted" action="WriteItems">
reply-to</ReasonForContact>
<ItemList>
<Item status="failed"
name="Canonical-lookup-international-code" index="6"></Item>
<Item status="failed" name="Canonical-lookup-local-code"
index="6"></Item>
</ItemList>
</Message>
</WorkpointMessage>`,
    message: {
      nonce: 'BFBD54B05B45E13F9E7E773F65CE3956',
      maxItems: -1,
      fragment: 'final',
      reason: 'reply-to',
      status: 'accepted',
      action: 'WriteItems',
      items: [
        { name: 'Canonical-lookup-international-code', index: 6, value: '', status: 'failed' },
        { name: 'Canonical-lookup-local-code', index: 6, value: '', status: 'failed' },
      ],
    },
  },
  {
    page: 'p.83 read only',
    order: 'exact',
    xml: `<WorkpointMessage ${NS_SIEMENS}>
<Message nonce="930873879B353894AAB792E175847F39" maxItems="-1"
fragment="final">
<ReasonForContact status="accepted" action="WriteItems">
reply-to</ReasonForContact>
<ItemList>
<Item status="read only" name="device-type"></Item>
</ItemList>
</Message>
</WorkpointMessage>`,
    message: {
      nonce: '930873879B353894AAB792E175847F39',
      maxItems: -1,
      fragment: 'final',
      reason: 'reply-to',
      status: 'accepted',
      action: 'WriteItems',
      items: [{ name: 'device-type', value: '', status: 'read only' }],
    },
  },
  {
    page: 'p.83 PIN retries exceeded (the end tag "</Item>" is wrapped after "</")',
    order: 'exact',
    xml: `<WorkpointMessage ${NS_SIEMENS}>
<Message nonce="930873879B353894AAB792E175847F39" maxItems="-1"
fragment="final">
<ReasonForContact>clean-up</ReasonForContact>
<ItemList>
<Item name="cleanup-reason">password retries exceeded</
Item>
</ItemList>
</Message>
</WorkpointMessage>`,
    message: {
      nonce: '930873879B353894AAB792E175847F39',
      maxItems: -1,
      fragment: 'final',
      reason: 'clean-up',
      items: [{ name: 'cleanup-reason', value: 'password retries exceeded' }],
    },
  },
];

/**
 * Undoes the PDF's line breaks where XML would read them differently: inside an attribute value
 * (joined), right after "<" or "</" (joined), elsewhere inside a tag (a space). Breaks in
 * character data stay: that is the wrapping both readers trim.
 */
export function unwrap(printed: string): string {
  let out = '';
  let inTag = false;
  let quote: string | null = null;
  for (const c of printed) {
    if (c === '\n' && inTag) {
      if (quote !== null || out.endsWith('<') || out.endsWith('</')) continue;
      out += ' ';
      continue;
    }
    if (inTag && quote === null && (c === '"' || c === "'")) quote = c;
    else if (quote !== null && c === quote) quote = null;
    else if (c === '<') inTag = true;
    else if (c === '>' && quote === null) inTag = false;
    out += c;
  }
  return out;
}

/**
 * A comparable form of a WorkpointMessage document: the declaration dropped, one token per tag
 * or value, attributes as written (or sorted), `<X …></X>` written `<X …/>`, values trimmed.
 */
export function canonical(xml: string, sortAttributes = false): string[] {
  const body = unwrap(xml).replace(/^\s*<\?xml[^?]*\?>/, '');
  const tokens: string[] = [];
  for (const m of body.matchAll(/<(\/?)([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*"[^"]*")*)\s*(\/?)>|([^<]+)/g)) {
    if (m[5] !== undefined) {
      const text = m[5].trim();
      if (text !== '') tokens.push(text);
      continue;
    }
    const [, close, name, rawAttrs, selfClose] = m;
    if (close) {
      const last = tokens[tokens.length - 1];
      if (last !== undefined && (last === `<${name}>` || (last.startsWith(`<${name} `) && !last.endsWith('/>')))) {
        tokens[tokens.length - 1] = `${last.slice(0, -1)}/>`;
      } else tokens.push(`</${name}>`);
      continue;
    }
    const attrs = [...rawAttrs!.matchAll(/([\w:.-]+)\s*=\s*"([^"]*)"/g)].map((a) => `${a[1]}="${a[2]}"`);
    if (sortAttributes) attrs.sort();
    tokens.push(`<${[name, ...attrs].join(' ')}${selfClose ? '/' : ''}>`);
  }
  return tokens;
}
