/**
 * The dashboard's one client script (inline): local times, forms sent as JSON to the API with the
 * session's CSRF token (a refusal shown with each field's reason), typed confirmations, and live
 * progress of a queued command.
 */
export const CLIENT_SCRIPT = `
(function(){
var csrf=(document.querySelector('meta[name=csrf]')||{}).content||'';
function fmt(el){var t=Number(el.getAttribute('data-ts'));if(!t)return;var d=new Date(t);
 el.textContent=d.toLocaleString(undefined,{dateStyle:el.hasAttribute('data-date')?'medium':'short',timeStyle:el.hasAttribute('data-date')?undefined:'short'});el.title=d.toISOString();}
document.querySelectorAll('time[data-ts]').forEach(fmt);
document.querySelectorAll('text.tick[data-ts]').forEach(function(el){var d=new Date(Number(el.getAttribute('data-ts')));
 el.textContent=el.getAttribute('data-fmt')==='day'?d.toLocaleDateString(undefined,{month:'short',day:'numeric'}):d.toLocaleTimeString(undefined,{hour:'2-digit',minute:'2-digit'});});
function api(method,url,body){return fetch(url,{method:method,credentials:'same-origin',headers:{'Content-Type':'application/json','X-CSRF-Token':csrf},body:body===undefined?undefined:JSON.stringify(body)})
 .then(function(r){return r.json().catch(function(){return {}}).then(function(j){if(!r.ok)throw new Error((j.error||('HTTP '+r.status))+(Array.isArray(j.fields)?' ('+j.fields.map(function(f){return f.field+': '+f.message;}).join('; ')+')':''));return j;});});}
window.sgApi=api;
function collect(form){var o={};Array.prototype.forEach.call(form.elements,function(el){if(!el.name||el.name==='_csrf')return;
 if(el.type==='checkbox'){o[el.name]=el.checked;return;}if(el.hasAttribute('data-bool')){o[el.name]=el.value==='true';return;}if(el.hasAttribute('data-list')){var l=el.value.split(/[\\s,]+/).filter(Boolean);o[el.name]=l.length?l:null;return;}if(el.hasAttribute('data-json')){try{o[el.name]=JSON.parse(el.value);}catch(e){o[el.name]=el.value;}return;}if(el.type==='number'){o[el.name]=el.value===''?null:Number(el.value);return;}
 if(el.value===''&&el.hasAttribute('data-null'))o[el.name]=null;else if(el.value!=='')o[el.name]=el.value;});return o;}
document.addEventListener('submit',function(e){var f=e.target;if(!f.hasAttribute('data-api'))return;e.preventDefault();
 var msg=f.querySelector('.msg');var confirmName=f.getAttribute('data-confirm-name');var body=collect(f);
 if(confirmName!==null){var typed=prompt('Type "'+confirmName+'" to confirm');if(typed===null)return;body.confirm=typed;}
 else if(f.hasAttribute('data-confirm')&&!confirm(f.getAttribute('data-confirm')))return;
 var btn=f.querySelector('button');if(btn)btn.disabled=true;if(msg)msg.textContent='Saving…';
 api(f.getAttribute('data-method')||'POST',f.getAttribute('data-api'),body).then(function(j){
  var show=f.getAttribute('data-show');
  if(show){var out=document.getElementById(show);out.hidden=false;out.querySelectorAll('[data-field]').forEach(function(el){var v=j;el.getAttribute('data-field').split('.').forEach(function(k){v=v&&v[k];});el.textContent=v==null?'':String(v);});if(msg)msg.textContent='Done';if(btn)btn.disabled=false;return;}
  if(f.hasAttribute('data-progress')){watch(j.command_id||j.commandId,document.getElementById(f.getAttribute('data-progress')));if(msg)msg.textContent='Queued';return;}
  var go=f.getAttribute('data-redirect');if(go)location.href=go;else location.reload();
 }).catch(function(err){if(msg)msg.textContent=err.message;if(btn)btn.disabled=false;});});
var STEPS=['queued','delivered','acked','running','completed'];
function watch(id,box){if(!id||!box)return;box.hidden=false;box.setAttribute('data-command',id);
 function draw(s,m){var end=s==='failed'||s==='expired'||s==='cancelled';var i=STEPS.indexOf(s);
  box.innerHTML='<div class="steps">'+STEPS.map(function(x,k){var c=end&&k===Math.max(i,0)?'':(k<i||s==='completed'?'done':(k===i?'now':''));return '<span class="'+c+'">'+x+'</span>';}).join('')+(end?'<span class="fail">'+s+'</span>':'')+'</div>'+(m?'<div class="muted" style="font-size:12px">'+m.replace(/</g,'&lt;')+'</div>':'');
  box.setAttribute('data-state',s);}
 draw('queued');
 (function poll(){api('GET','/api/client/commands/'+id).then(function(c){draw(c.status,c.message);
  if(['completed','failed','expired','cancelled'].indexOf(c.status)<0)setTimeout(poll,1000);}).catch(function(){setTimeout(poll,2000);});})();}
document.querySelectorAll('[data-command]').forEach(function(el){watch(el.getAttribute('data-command'),el);});
})();
`
